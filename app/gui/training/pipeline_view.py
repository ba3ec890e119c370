"""The Pipeline tab: every ``layerloom pipeline`` run of the project with its verdict, and the
steps of the selected one (status, message, inputs and figures), as the project file records them
(``app.workbench.pipeline.pipeline_runs``). Read-only: pipelines run from the CLI or CI."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLOURS = {
    "pushed": "#2e7d32",
    "passed": "#2e7d32",
    "refused": "#c62828",
    "failed": "#c62828",
    "running": "#1565c0",
}
MARKS = {"passed": "✓", "refused": "✗", "failed": "✗", "running": "…"}
EMPTY = (
    "No pipeline runs yet. `layerloom pipeline P.loom --data F --push DIR --gate …` checks new"
    " data, trains, evaluates, gates and pushes; its runs appear here."
)
COLUMNS = ("#", "started", "verdict", "decided at", "version", "data", "why")


def _item(text: str, colour: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if colour:
        item.setForeground(QBrush(QColor(colour)))
    return item


def _figures_line(step) -> str:
    """The few figures worth a glance, per step."""
    figures = step.figures
    if step.step == "evaluate" and figures.get("metrics"):
        return "  ".join(f"{k} {v:.3f}" for k, v in figures["metrics"].items())
    if step.step == "compare" and "candidate" in figures:
        return f"{figures['metric']}: {figures['candidate']:.3f} vs pushed {figures['pushed']:.3f}"
    if step.step == "train" and figures.get("best_metrics"):
        best = figures["best_metrics"]
        return "  ".join(f"{k} {v:.3f}" for k, v in best.items() if k.startswith("val_"))
    if step.step == "check-data":
        return f"{len(figures.get('anomalies', []))} anomalies"
    if step.step == "push" and "version" in figures:
        return figures.get("path", "")
    return ""


class PipelineView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.records: list = []
        self.empty = QLabel(EMPTY)
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "secondary")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Pipeline runs")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selected)
        self.steps = QTreeWidget()
        self.steps.setAccessibleName("Pipeline steps")
        self.steps.setHeaderLabels(["step", "status", "what it said", "figures"])
        self.steps.setRootIsDecorated(False)
        self.steps.setWordWrap(True)
        self.steps.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.steps.currentItemChanged.connect(lambda item, _old: self._show_details(item))
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Step inputs and figures")
        self.details.setPlaceholderText("Select a step to see its inputs and figures.")
        below = QSplitter(Qt.Orientation.Horizontal)
        below.addWidget(self.steps)
        below.addWidget(self.details)
        below.setStretchFactor(0, 3)
        below.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.table)
        split.addWidget(below)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.empty)
        layout.addWidget(split, 1)
        self.show_runs([])

    def show_runs(self, records: list) -> None:
        """Show ``records`` (``PipelineRecord``s, oldest first): newest on top, selected."""
        self.records = list(reversed(records))
        self.empty.setVisible(not records)
        self.table.setRowCount(len(self.records))
        for row, record in enumerate(self.records):
            mark = MARKS.get("passed" if record.verdict == "pushed" else record.verdict, "")
            cells = (
                _item(str(record.id)),
                _item(record.created_at[:19].replace("T", " ")),
                _item(f"{mark} {record.verdict}", COLOURS.get(record.verdict)),
                _item(record.decided_at or ""),
                _item("" if record.version is None else str(record.version)),
                _item(record.data_path.rsplit("/", 1)[-1]),
                _item(record.reason or ""),
            )
            cells[-1].setToolTip(record.reason or "")
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        if self.records:
            self.table.selectRow(0)
        else:
            self.steps.clear()
            self.details.clear()

    def _on_selected(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        self.steps.clear()
        self.details.clear()
        if not rows:
            return
        record = self.records[min(rows)]
        for step in record.steps:
            item = QTreeWidgetItem(
                [
                    step.step,
                    f"{MARKS.get(step.status, '')} {step.status}",
                    step.message,
                    _figures_line(step),
                ]  # fmt: skip
            )
            item.setForeground(1, QBrush(QColor(COLOURS.get(step.status, "#757575"))))
            item.setToolTip(2, step.message)
            item.setData(0, Qt.ItemDataRole.UserRole, step)
            self.steps.addTopLevelItem(item)
        if record.steps:
            self.steps.setCurrentItem(self.steps.topLevelItem(len(record.steps) - 1))

    def _show_details(self, item) -> None:
        if item is None:
            self.details.clear()
            return
        step = item.data(0, Qt.ItemDataRole.UserRole)
        shown = {"inputs": step.inputs, "figures": step.figures}
        text = json.dumps(shown, indent=1, ensure_ascii=False, default=str)
        self.details.setPlainText(text)
