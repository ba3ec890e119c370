"""The runs list: one row per training run of the project, sortable, several selectable.

The model is a thin Qt table over plain run summaries (dicts), so it does not depend on how the
orchestrator stores runs. Known keys: ``id``, ``status``, ``graph_version_id``, ``settings`` (a dict
or a ready summary), ``best`` (``{metric: value}``; ``metrics`` is read when ``best`` is absent),
``duration`` (seconds; else from ``started_at``/``finished_at``), ``started_at``, and where it ran:
``backend_label`` (a remote's name, or ``local``; ``backend`` when absent), ``host``,
``accelerator``, ``device_count``, ``exit_reason``. One column
appears per metric any run has. Selecting rows emits their run ids, in the order shown.
"""

from __future__ import annotations

import math
from datetime import datetime

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from layerloom.app.gui.theme import SHEET_COLOURS
from layerloom.app.gui.training.progress import format_duration

SORT_ROLE = Qt.ItemDataRole.UserRole
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
FIXED = ("Run", "Status")  # then one column per metric: what runs are compared by
TRAILING = ("Duration", "Backend", "Host", "Graph", "Settings", "Started")
# Metrics where lower is better, for the "best" reading of a plain metrics dict.
LOWER_IS_BETTER = ("loss", "mae", "mse", "rmse", "error")


def _time(value) -> datetime | None:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def duration_of(run: dict) -> float | None:
    value = run.get("duration", run.get("seconds"))
    if isinstance(value, (int, float)):
        return float(value)
    start, end = _time(run.get("started_at")), _time(run.get("finished_at"))
    if start and end:
        return (end - start).total_seconds()
    return None


def best_metrics(run: dict) -> dict[str, float]:
    values = run.get("best")
    if not isinstance(values, dict):
        values = run.get("metrics")
    if not isinstance(values, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in values.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


def settings_summary(settings) -> str:
    if isinstance(settings, str):
        return settings
    if not isinstance(settings, dict):
        return ""
    parts = []
    if "optimizer" in settings:
        parts.append(str(settings["optimizer"]))
    if "learning_rate" in settings:
        parts.append(f"lr {settings['learning_rate']:g}")
    if "batch_size" in settings:
        parts.append(f"batch {settings['batch_size']}")
    if "epochs" in settings:
        parts.append(f"{settings['epochs']} ep")
    return ", ".join(parts)


def where_it_ran(run: dict) -> str:
    """'remote:box on me@tpu-vm: tpu ×8 (tensorflow); ended: ...' for a tooltip."""
    parts = [str(run.get("backend") or "")]
    if run.get("host"):
        parts.append(f"on {run['host']}")
    text = " ".join(p for p in parts if p)
    if run.get("accelerator"):
        text += f": {run['accelerator']} ×{run.get('device_count') or 1}"
        if run.get("keras_backend"):
            text += f" ({run['keras_backend']})"
    if run.get("exit_reason"):
        text += f"; {run['exit_reason']}"
    return text


def metric_order(name: str) -> tuple:
    """loss first, then the other metrics; each train metric before its val_ twin."""
    base = name.removeprefix("val_")
    return (base != "loss", base, name.startswith("val_"))


class RunsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs: list[dict] = []
        self.metrics: list[str] = []
        self._dark = False

    def set_runs(self, runs: list[dict]) -> None:
        self.beginResetModel()
        self.runs = [dict(run) for run in runs]
        names = {name for run in self.runs for name in best_metrics(run)}
        self.metrics = sorted(names, key=metric_order)
        self.endResetModel()

    def headers(self) -> list[str]:
        return [*FIXED, *self.metrics, *TRAILING]

    def rowCount(self, parent=None):
        return 0 if parent is not None and parent.isValid() else len(self.runs)

    def columnCount(self, parent=None):
        if parent is not None and parent.isValid():
            return 0
        return len(FIXED) + len(self.metrics) + len(TRAILING)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            name = self.headers()[section]
            if name in self.metrics:
                return f"{name} at the run's best epoch"
        return None

    def _value(self, run: dict, column: str):
        """(display text, sort key) of one cell."""
        if column == "Run":
            run_id = run.get("id")
            return (f"#{run_id}" if run_id is not None else "", run_id)
        if column == "Status":
            status = str(run.get("status", ""))
            return (status.capitalize(), status)
        if column == "Backend":
            text = str(run.get("backend_label") or run.get("backend") or "")
            return (text, text)
        if column == "Host":
            text = str(run.get("host") or "")
            return (text, text)
        if column == "Graph":
            version = run.get("graph_version_id")
            return (f"v{version}" if version is not None else "", version)
        if column == "Settings":
            text = settings_summary(run.get("settings_summary", run.get("settings")))
            return (text, text)
        if column == "Duration":
            seconds = duration_of(run)
            return (format_duration(seconds) if seconds is not None else "", seconds)
        if column == "Started":
            when = _time(run.get("started_at"))
            return (
                when.strftime("%Y-%m-%d %H:%M") if when else "",
                when.timestamp() if when else None,
            )
        value = best_metrics(run).get(column)
        return ("" if value is None else f"{value:.4g}", value)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        run = self.runs[index.row()]
        column = self.headers()[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._value(run, column)[0]
        if role == SORT_ROLE:
            return self._value(run, column)[1]
        if role == RUN_ID_ROLE:
            return run.get("id")
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == "Status" and run.get("reason"):
                return str(run["reason"])
            if column in ("Backend", "Host"):
                return where_it_ran(run) or None
            if column == "Settings" and isinstance(run.get("settings"), dict):
                return "\n".join(f"{k}: {v}" for k, v in sorted(run["settings"].items()))
        if role == Qt.ItemDataRole.ForegroundRole and column == "Status":
            colours = SHEET_COLOURS[self._dark]
            status = run.get("status")
            if status in ("failed", "diverged"):  # diverged: the loss became NaN/inf
                return QColor(colours["error"])
            if status == "finished":
                return QColor(colours["ok"])
            if status in ("cancelled", "stopped", "interrupted"):
                return QColor(colours["secondary"])
        if role == Qt.ItemDataRole.TextAlignmentRole and (
            column in self.metrics or column in ("Run", "Graph", "Duration")
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class RunsProxy(QSortFilterProxyModel):
    """Sorts by each cell's raw value; empty cells sort last whichever way the column is sorted."""

    def lessThan(self, left, right):
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None:
            ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
            return (a is not None) if ascending else (a is None and b is not None)
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)


class RunsTable(QWidget):
    selection_changed = Signal(list)  # run ids, in the order shown
    run_activated = Signal(object)  # a run id (double click / Enter)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = RunsModel(self)
        self.proxy = RunsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView()
        self.view.setAccessibleName("Runs")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # newest first
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.activated.connect(self._on_activated)
        self.view.doubleClicked.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setFocusProxy(self.view)

    def set_runs(self, runs: list[dict], dark: bool | None = None) -> None:
        selected = self.selected_ids()
        if dark is not None:
            self.model._dark = dark
        self.model.set_runs(runs)
        self.view.resizeColumnsToContents()
        if selected:
            self.select(selected, emit=False)

    def selected_ids(self) -> list:
        rows = sorted(index.row() for index in self.view.selectionModel().selectedRows())
        return [self.proxy.index(row, 0).data(RUN_ID_ROLE) for row in rows]

    def select(self, run_ids, emit: bool = True) -> None:
        """Select the rows of ``run_ids`` (one selection change, one signal when ``emit``)."""
        wanted = set(run_ids)
        selection = QItemSelection()
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(RUN_ID_ROLE) in wanted:
                selection.select(index, index)
        model = self.view.selectionModel()
        blocked = model.blockSignals(True)
        flags = QItemSelectionModel.SelectionFlag
        model.select(selection, flags.ClearAndSelect | flags.Rows)
        model.blockSignals(blocked)
        self.view.viewport().update()
        if emit:
            self._on_selection()

    def run(self, run_id) -> dict | None:
        return next((r for r in self.model.runs if r.get("id") == run_id), None)

    def _on_selection(self, *_args) -> None:
        self.selection_changed.emit(self.selected_ids())

    def _on_activated(self, index) -> None:
        if index.isValid():
            self.run_activated.emit(index.data(RUN_ID_ROLE))
