"""Per-sample predictions as a sortable, filterable table (for the evaluation view).

Rows are plain dicts: ``index`` (the sample's position in the evaluated split), ``true``,
``predicted``, and optionally ``confidence`` (the predicted class's probability) and ``loss`` (the
sample's own loss, or the absolute error for regression). Filtering by a (true, predicted) pair is
how a confusion-matrix cell shows its samples.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

SORT_ROLE = Qt.ItemDataRole.UserRole
COLUMNS = ("Sample", "True", "Predicted", "Confidence", "Loss")


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
