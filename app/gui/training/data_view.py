"""The Statistics tab: per-feature statistics of the project's dataset with small histograms, the
schema new data is checked against, and the anomalies of a chosen file.

The project's settings (dataset, schema, training statistics) are read on the GUI thread
(``data_plan``); the files are read on another (``run_off_thread``), so a big CSV keeps the
window responsive. A schema inferred there is stored back on the GUI thread.
"""

from __future__ import annotations

import html
import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.training.offthread import one_line, run_off_thread
from layerloom.app.workbench.data_checks import (
    data_plan,
    plan_check,
    plan_statistics,
    store_schema,
)

COLUMNS = ("Feature", "Type", "Values", "Missing", "Min", "Max", "Mean", "Std", "Top / median",
           "Histogram", "Schema")  # fmt: skip
HIST_SIZE = (96, 22)


def shown(text: str) -> str:
    """A name as one line of a cell: quoted with escapes when it holds control characters."""
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)


def _g(value) -> str:
    return "" if value is None else f"{value:.4g}"


def histogram_pixmap(counts: list[int], colour: QColor) -> QPixmap:
    width, height = HIST_SIZE
    pixmap = QPixmap(width, height)
    pixmap.fill(Qt.GlobalColor.transparent)
    if not counts or max(counts) == 0:
        return pixmap
    # Many narrow bins read badly at this size: merge neighbours down to at most 24 bars.
    step = max(1, -(-len(counts) // 24))
    bars = [sum(counts[i : i + step]) for i in range(0, len(counts), step)]
    top = max(bars)
    painter = QPainter(pixmap)
    bar = width / len(bars)
    for i, count in enumerate(bars):
        h = max(1.0, (height - 2) * count / top) if count else 0.0
        painter.fillRect(int(i * bar), int(height - h), max(1, int(bar) - 1), int(h) or 0, colour)
    painter.end()
    return pixmap


def schema_text(feature: dict | None) -> str:
    if feature is None:
        return "not in the schema"
    parts = ["required" if feature["required"] else "optional"]
    if feature["min"] is not None or feature["max"] is not None:
        parts.append(f"{_g(feature['min'])}..{_g(feature['max'])}")
    if feature["values"] is not None:
        parts.append(f"{len(feature['values'])} values")
    parts.append("drift off" if feature["drift"] is None else f"drift ≤ {feature['drift']:g}")
    return "; ".join(parts)


class DataView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.document = None
        self.statistics: dict | None = None
        self.schema: dict | None = None
        self.task = None
        self.heading = QLabel("Statistics of the project's dataset")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)  # names and paths as typed
        self.compute_button = QPushButton("Compute statistics")
        self.compute_button.setToolTip(
            "Read the whole dataset (off the GUI thread) and describe it"
        )
        self.compute_button.clicked.connect(self.compute)
        self.check_button = QPushButton("Check a file…")
        self.check_button.setToolTip("Anomalies of a CSV/TSV file against the schema")
        self.check_button.clicked.connect(self.choose_and_check)
        self.status = QLabel("")
        self.status.setProperty("role", "secondary")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAccessibleName("Feature statistics")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setIconSize(self.table.iconSize().expandedTo(QPixmap(*HIST_SIZE).size()))
        self.anomalies = QListWidget()
        self.anomalies.setAccessibleName("Anomalies")
        self.anomalies.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.compute_button)
        top.addWidget(self.check_button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        self.anomalies_heading = QLabel("Anomalies of a checked file (“Check a file…”)")
        self.anomalies_heading.setTextFormat(Qt.TextFormat.PlainText)
        lower_layout.addWidget(self.anomalies_heading)
        lower_layout.addWidget(self.anomalies, 1)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

    # --- the document -------------------------------------------------------------------------
    def set_document(self, document) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.document = document
        self.statistics = None
        self.table.setRowCount(0)
        self.anomalies.clear()
        self._set_busy(False)
        self._status("Press “Compute statistics” to read the dataset.")

    def _plan(self):
        opened = None if self.document is None else self.document.opened
        if opened is None:
            self._status("Save the project first: statistics read its dataset.", error=True)
            return None
        try:
            return data_plan(opened)
        except Exception as error:  # a project without a CSV/image dataset, an unreadable file
            self._status(one_line(error), error=True)
            return None

    # --- statistics ---------------------------------------------------------------------------
    def compute(self) -> None:
        plan = self._plan()
        if plan is None:
            return
        self.schema = plan.schema
        self._set_busy(True)
        self._status(f"Reading {shown(plan.data)}…")
        self.task = run_off_thread(
            lambda report: plan_statistics(plan), self._computed, name="layerloom-stats"
        )

    def _computed(self, statistics, error) -> None:
        self.task = None
        self._set_busy(False)
        if error is not None:
            self._status(error, error=True)
            return
        self.show_statistics(statistics, self.schema)

    def show_statistics(self, statistics: dict, schema: dict | None) -> None:
        self.statistics, self.schema = statistics, schema
        if statistics["kind"] == "images":
            self._show_images(statistics)
            return
        by_name = {f["name"]: f for f in (schema or {}).get("features", [])}
        colour = self.palette().highlight().color()
        self.table.setRowCount(len(statistics["features"]))
        for row, feature in enumerate(statistics["features"]):
            numeric, categorical = feature.get("numeric") or {}, feature.get("categorical") or {}
            if numeric:
                summary = f"median {_g(numeric['quantiles']['values'][4])}"
            else:
                summary = ", ".join(f"{shown(v)} ({n})" for v, n in categorical.get("top", [])[:3])
            cells = [
                shown(feature["name"]),
                feature["type"],
                str(feature["count"]),
                str(feature["missing"]),
                _g(numeric.get("min")),
                _g(numeric.get("max")),
                _g(numeric.get("mean")),
                _g(numeric.get("std")),
                summary,
                "",
                schema_text(by_name.get(feature["name"])) if schema else "no schema stored",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                # Tooltips take rich text when it looks like it: escaped, a name shows as typed.
                item.setToolTip(f"<span>{html.escape(text)}</span>")
                self.table.setItem(row, column, item)
            counts = (numeric.get("histogram") or {}).get("counts") or [
                n for _, n in categorical.get("top", [])[:24]
            ]
            self.table.item(row, 9).setData(
                Qt.ItemDataRole.DecorationRole, histogram_pixmap(counts, colour)
            )
        self.table.resizeRowsToContents()
        target = f", target {shown(statistics['target'])}" if statistics.get("target") else ""
        self.heading.setText(
            f"{shown(statistics['path'])}: {statistics['rows']} rows,"
            f" {len(statistics['columns'])} columns{target}"
        )
        balance = statistics.get("class_balance")
        if balance:
            total = sum(balance.values())
            shares = ", ".join(f"{shown(k)} {n / total:.0%}" for k, n in list(balance.items())[:8])
            self._status(f"Class balance: {shares}")
        else:
            self._status("")

    def _show_images(self, statistics: dict) -> None:
        rows = [
            ("images", str(statistics["files"])),
            ("sizes", ", ".join(f"{k} ({n})" for k, n in statistics["sizes"].items())),
            ("modes", ", ".join(f"{k} ({n})" for k, n in statistics["modes"].items())),
            ("corrupt", str(statistics["corrupt"]["count"])),
        ]
        rows += [("", shown(f)) for f in statistics["corrupt"]["files"]]
        self.table.setRowCount(len(rows))
        for row, (name, text) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            self.table.setItem(row, 2, QTableWidgetItem(text))
        self.heading.setText(f"{shown(statistics['path'])}: an image folder")
        balance = statistics["class_balance"]
        self._status("Classes: " + ", ".join(f"{shown(k)} {n}" for k, n in balance.items()))

    # --- checking a file ----------------------------------------------------------------------
    def ask_file(self) -> str | None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Check a file", "", "Tables (*.csv *.tsv *.tab *.txt);;All files (*)"
        )
        return path or None

    def choose_and_check(self) -> None:
        path = self.ask_file()
        if path:
            self.check(path)

    def check(self, path: str) -> None:
        plan = self._plan()
        if plan is None:
            return
        self._set_busy(True)
        self._status(f"Checking {shown(path)}…")
        self.task = run_off_thread(
            lambda report: plan_check(plan, path), self._checked, name="layerloom-check"
        )

    def _checked(self, result, error) -> None:
        self.task = None
        self._set_busy(False)
        if error is not None:
            self._status(error, error=True)
            return
        notes = list(result.notes)
        if result.inferred is not None and self.document is not None:
            opened = self.document.opened
            if opened is not None and not opened.project.readonly:
                store_schema(opened, *result.inferred)
                notes[-1] += " and stored in the project"
            self.schema = result.inferred[0]
        self.show_anomalies(result)
        verdict = "no anomalies" if result.passed else f"{len(result.anomalies)} anomalies"
        self._status("; ".join([f"{shown(result.path)}: {verdict}", *notes]))

    def show_anomalies(self, result) -> None:
        self.anomalies.clear()
        self.anomalies_heading.setText(f"Anomalies of {shown(result.path)}")
        if result.passed:
            self.anomalies.addItem(f"{shown(result.path)}: no anomalies")
        for anomaly in result.anomalies:
            self.anomalies.addItem(f"{anomaly.kind}: {anomaly.message}")

    # --- helpers ------------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.compute_button.setEnabled(not busy)
        self.check_button.setEnabled(not busy)

    def _status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("role", "error" if error else "secondary")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
