"""The problems panel: every problem of the graph, one line each ("node: message"), then the export
targets the graph cannot reach and why ("Export: node 'x' (LSTM) cannot go to TF Lite: ...").

Refreshed on ``Document.analysis_changed`` (coalesced) and when the document's export refusals
change; choosing a line asks the canvas to centre on and select its node (``node_chosen``). Export
refusals are warnings, not problems: the graph still compiles and trains, so they are not counted.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from layerloom.app.gui.export_compat import compatibility
from layerloom.nodes.compile import describe

NODE_ROLE = Qt.ItemDataRole.UserRole
EXPORT_PREFIX = "Export: "


class ProblemList(QListWidget):
    """A list that says so when it is empty (and stays focusable, unlike a swapped-in label)."""

    placeholder = "No problems: the graph is ready to compile."

    def paintEvent(self, event):
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)


class ProblemsPanel(QWidget):
    node_chosen = Signal(str)
    count_changed = Signal(int)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self.list = ProblemList()
        self.list.setAccessibleName("Problems")
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemActivated.connect(self._choose)
        self.list.itemClicked.connect(self._choose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self.setFocusProxy(self.list)
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.refresh)
        self.set_document(document)

    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.analysis_changed.disconnect(self._timer.start)
            self.export_compat.changed.disconnect(self._timer.start)
        self.document = document
        self.export_compat = compatibility(document)
        document.analysis_changed.connect(self._timer.start)
        self.export_compat.changed.connect(self._timer.start)
        self.refresh()

    def refresh(self) -> None:
        problems = self.document.analysis.problems()
        current = self.list.currentItem()
        keep = current.text() if current is not None else None
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        note_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
        refused = self.export_compat.refusals()
        with QSignalBlocker(self.list):
            self.list.clear()
            for problem in problems:
                item = QListWidgetItem(icon, describe(self.document.graph, problem))
                item.setData(NODE_ROLE, problem.node_id)
                item.setToolTip(f"{problem.kind}: {item.text()}")
                self.list.addItem(item)
                if item.text() == keep:
                    self.list.setCurrentItem(item)
            for refusal in refused:
                item = QListWidgetItem(note_icon, f"{EXPORT_PREFIX}{refusal.message}")
                item.setData(NODE_ROLE, refusal.node_id)
                item.setToolTip(
                    "The graph compiles and trains, but this export target will refuse it."
                )
                self.list.addItem(item)
                if item.text() == keep:
                    self.list.setCurrentItem(item)
        self.problem_count = len(problems)
        self.count_changed.emit(len(problems))

    def lines(self) -> list[str]:
        """The problems' lines (export notes left out)."""
        return [line for line in self._all_lines() if not line.startswith(EXPORT_PREFIX)]

    def export_lines(self) -> list[str]:
        """The export notes: one per (node, target) the graph cannot reach."""
        return [line for line in self._all_lines() if line.startswith(EXPORT_PREFIX)]

    def _all_lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _on_current(self, item, _previous=None) -> None:
        if item is not None:
            self._choose(item)

    def _choose(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id and node_id in self.document.graph:
            self.node_chosen.emit(node_id)
