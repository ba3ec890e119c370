"""The Predict tab: drop files (or choose them) and see what a trained run says about each.

Images (files or folders), CSV files (one prediction per row) and .npz files go to
``app.workbench.predicting.predict`` through the panel's service, off the GUI thread (a worker
process does the reading and the model); the answer fills a table: input, predicted class and
its probability with the next most probable classes (top K), or the predicted value. The run
asked is the one selected in the runs table, else the project's best finished run; the heading
says which, in the workbench's words.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

HINT = (
    "Drop images, image folders, a CSV or an .npz here (or choose files) to see what the model"
    " says. The selected run answers, or the best finished run when none is selected."
)
FILTER = "Inputs (*.png *.jpg *.jpeg *.gif *.bmp *.csv *.tsv *.npz);;All files (*)"
THUMB = 28


class PredictView(QWidget):
    """``target()`` gives (project path or None, run id or None) when the user asks."""

    def __init__(self, service, target, parent=None):
        super().__init__(parent)
        self.service = service
        self.target = target
        self.busy = False
        self.result: dict | None = None
        self.setAcceptDrops(True)
        self.heading = QLabel(HINT)
        self.heading.setProperty("role", "secondary")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose files…")
        self.choose_button.setToolTip("Images, a CSV or an .npz to predict")
        self.choose_button.clicked.connect(self.choose)
        self.top = QSpinBox()
        self.top.setRange(1, 20)
        self.top.setValue(3)
        self.top.setPrefix("top ")
        self.top.setAccessibleName("Classes to show per input")
        self.top.setToolTip(
            "Classifiers: how many of the most probable classes to list (a regression gives"
            " its value)"
        )
        self.table = QTableWidget(0, 0)
        self.table.setAccessibleName("Predictions for the dropped inputs")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 6)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        controls = QHBoxLayout()
        controls.addWidget(self.heading, 1)
        controls.addWidget(self.top)
        controls.addWidget(self.choose_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.table, 1)

    # --- asking ---------------------------------------------------------------------------------
    def choose(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Predict", "", FILTER)
        if files:
            self.ask(files)

    def dragEnterEvent(self, event) -> None:
        if not self.busy and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.ask(paths)

    def ask(self, paths: list[str]) -> bool:
        """Predict ``paths`` with the target run, without blocking; False when it cannot start."""
        project, run_id = self.target()
        if self.busy:
            return False
        if project is None:
            self.heading.setText("Save the project and train a run first, then drop files here.")
            return False
        self.busy = True
        self.choose_button.setEnabled(False)
        which = f"run #{run_id}" if run_id is not None else "the best run"
        count = f"{len(paths)} input{'s' if len(paths) != 1 else ''}"
        self.heading.setText(f"Asking {which} about {count}…")

        def done(result, error) -> None:
            if not shiboken6.isValid(self):  # the panel was closed meanwhile
                return
            self.busy = False
            self.choose_button.setEnabled(True)
            if error:
                self.heading.setText(f"Could not predict: {error}")
            else:
                self.show_result(result)

        self.service.predict_async(Path(project), run_id, list(paths), self.top.value(), done)
        return True

    # --- showing --------------------------------------------------------------------------------
    def show_result(self, result: dict) -> None:
        """Fill the table from a ``Prediction`` as a dict (``rows`` of ``prediction_rows``)."""
        self.result = result
        rows = result.get("rows") or []
        values = result.get("answer") == "values"
        headers = (
            ["Input", "Value"] if values else ["Input", "Prediction", "Probability", "Next likely"]
        )
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            self.table.setItem(index, 0, self._input_item(row["input"]))
            if values:
                self.table.setItem(index, 1, _number(row["value"]))
                continue
            best, *others = row["top"]
            self.table.setItem(index, 1, QTableWidgetItem(str(best["label"])))
            self.table.setItem(index, 2, _number(best["probability"], percent=True))
            rest = " · ".join(f"{c['label']} {c['probability']:.1%}" for c in others)
            self.table.setItem(index, 3, QTableWidgetItem(rest))
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        # Values sit next to their input; a classifier's last column (the next classes) fills.
        self.table.horizontalHeader().setStretchLastSection(not values)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        parts = [f"Run #{result.get('run_id')}: {len(rows)} prediction(s)"]
        reason = result.get("reason") or ""
        if "(" in reason:
            parts.append(reason[reason.index("(") + 1 : reason.rindex(")")])
        parts += [f"warning: {w}" for w in result.get("warnings") or []]
        self.heading.setText(" · ".join(parts))

    def _input_item(self, name: str) -> QTableWidgetItem:
        item = QTableWidgetItem(Path(name).name or name)
        item.setToolTip(name)
        path = Path(name)
        if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".bmp") and path.is_file():
            pixmap = QPixmap(str(path))
            if not pixmap.isNull():
                item.setIcon(QIcon(_thumbnail(pixmap)))
        return item


def _thumbnail(pixmap: QPixmap) -> QPixmap:
    """The image scaled into a THUMB square, centred, so every name starts at the same place."""
    scaled = pixmap.scaled(
        THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    square = QPixmap(THUMB, THUMB)
    square.fill(Qt.GlobalColor.transparent)
    painter = QPainter(square)
    painter.drawPixmap((THUMB - scaled.width()) // 2, (THUMB - scaled.height()) // 2, scaled)
    painter.end()
    return square


class _NumberItem(QTableWidgetItem):
    """Sorts by the number, not by its text ("9.0%" before "10.0%")."""

    def __lt__(self, other):
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if isinstance(mine, float) and isinstance(theirs, float):
            return mine < theirs
        return super().__lt__(other)


def _number(value, percent: bool = False) -> QTableWidgetItem:
    item = _NumberItem()
    if isinstance(value, (int, float)):
        item.setData(Qt.ItemDataRole.DisplayRole, f"{value:.1%}" if percent else f"{value:.6g}")
        item.setData(Qt.ItemDataRole.UserRole, float(value))
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    else:
        item.setText(str(value))
    return item
