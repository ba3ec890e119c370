"""Per-sample predictions as a sortable, filterable table (for the evaluation view).

Rows are plain dicts: ``index`` (the sample's position in the evaluated split), ``true``,
``predicted``, and optionally ``confidence`` (the predicted class's probability) and ``loss`` (the
sample's own loss, or the absolute error for regression). Filtering by a (true, predicted) pair is
how a confusion-matrix cell shows its samples.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

SORT_ROLE = Qt.ItemDataRole.UserRole
COLUMNS = ("Sample", "True", "Predicted", "Confidence", "Loss")


def classification_rows(y_true, y_pred, probabilities=None, losses=None) -> list[dict]:
    """Rows for a classifier: confidence is the top probability, loss the sample's cross-entropy
    (unless ``losses`` gives it)."""
    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
    y_pred = np.asarray(y_pred).astype(np.int64).reshape(-1)
    confidence = loss = None
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype=np.float64)
        if probs.ndim == 1 or probs.shape[-1] == 1:  # one sigmoid unit: P(class 1)
            p1 = probs.reshape(-1)
            probs = np.stack([1 - p1, p1], axis=1)
        confidence = probs[np.arange(len(y_pred)), np.clip(y_pred, 0, probs.shape[1] - 1)]
        picked = probs[np.arange(len(y_true)), np.clip(y_true, 0, probs.shape[1] - 1)]
        loss = -np.log(np.clip(picked, 1e-12, 1.0))
    if losses is not None:
        loss = np.asarray(losses, dtype=np.float64).reshape(-1)
    return [
        {
            "index": i,
            "true": int(y_true[i]),
            "predicted": int(y_pred[i]),
            "confidence": None if confidence is None else float(confidence[i]),
            "loss": None if loss is None else float(loss[i]),
        }
        for i in range(len(y_true))
    ]


def regression_rows(y_true, y_pred) -> list[dict]:
    true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    pred = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    error = np.abs(pred - true).mean(axis=1)
    return [
        {
            "index": i,
            "true": float(true[i, 0]) if true.shape[1] == 1 else true[i].tolist(),
            "predicted": float(pred[i, 0]) if pred.shape[1] == 1 else pred[i].tolist(),
            "confidence": None,
            "loss": float(error[i]),
        }
        for i in range(len(true))
    ]


class PredictionsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self.class_names: list[str] = []

    def set_rows(self, rows: list[dict], class_names=None) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.class_names = list(class_names or [])
        self.endResetModel()

    def rowCount(self, parent=None):
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent=None):
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def _label(self, value) -> str:
        if isinstance(value, int) and 0 <= value < len(self.class_names):
            return self.class_names[value]
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, list):
            return (
                "[" + ", ".join(f"{v:.3g}" for v in value[:4]) + (", …]" if len(value) > 4 else "]")
            )
        return str(value)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = ("index", "true", "predicted", "confidence", "loss")[index.column()]
        value = row.get(key)
        if role == SORT_ROLE:
            return value if not isinstance(value, list) else None
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return ""
            if key == "confidence":
                return f"{value:.1%}"
            if key == "index":
                return str(value)
            return self._label(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("index", "confidence", "loss"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class PredictionsProxy(QSortFilterProxyModel):
    """Sorts on raw values; optionally keeps only the rows of one (true, predicted) pair."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pair: tuple[int, int] | None = None
        self.setSortRole(SORT_ROLE)

    def set_pair(self, pair: tuple[int, int] | None) -> None:
        self.beginFilterChange()
        self.pair = pair
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row, source_parent):
        if self.pair is None:
            return True
        row = self.sourceModel().rows[source_row]
        return (row.get("true"), row.get("predicted")) == self.pair

    def lessThan(self, left, right):
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None:
            return a is None and b is not None
        return a < b


class PredictionsTable(QTableView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_ = PredictionsModel(self)
        self.proxy = PredictionsProxy(self)
        self.proxy.setSourceModel(self.model_)
        self.setModel(self.proxy)
        self.setAccessibleName("Predictions")
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setHighlightSections(False)

    def set_rows(self, rows: list[dict], class_names=None) -> None:
        self.proxy.set_pair(None)
        self.model_.set_rows(rows, class_names)
        has_loss = any(r.get("loss") is not None for r in rows)
        self.setColumnHidden(3, not any(r.get("confidence") is not None for r in rows))
        self.setColumnHidden(4, not has_loss)
        if has_loss:  # the worst predictions first: what a user wants to look at
            self.sortByColumn(4, Qt.SortOrder.DescendingOrder)
        else:
            self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.resizeColumnsToContents()

    def shown_indices(self) -> list[int]:
        """Sample indices in the order shown (after filter and sort)."""
        return [self.proxy.index(row, 0).data(SORT_ROLE) for row in range(self.proxy.rowCount())]
