"""The evaluation view: how a trained run does on a held-out split.

Classification: a confusion matrix (rows: true class, columns: predicted; counts with colour
intensity, correct cells in blue and mistakes in orange), per-class precision/recall/F1, and the
per-sample predictions, worst first; clicking a cell emits ``(true, predicted)`` and filters the
predictions to that cell's samples. Regression: predicted against true as a scatter around the
y = x line, MAE/RMSE/R², and the predictions sorted by error.

Inputs are plain data: the worker's report dict (``set_report``, the shape of
``backends.evaluation``'s reports) or arrays (``set_classification``/``set_regression``), so the
view does not depend on the orchestrator's types.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.training.predictions import PredictionsTable
from layerloom.app.workbench.runs import classification_rows, regression_rows

CORRECT = QColor("#3d7be0")
WRONG = QColor("#e8833a")


def confusion_matrix(y_true, y_pred, classes: int | None = None) -> np.ndarray:
    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
    y_pred = np.asarray(y_pred).astype(np.int64).reshape(-1)
    count = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    count = max(count, classes or 0)
    matrix = np.zeros((count, count), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def per_class(matrix: np.ndarray, names: list[str]) -> list[dict]:
    """Precision, recall, F1 and support per class from a confusion matrix."""
    matrix = np.asarray(matrix, dtype=np.float64)
    hits = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return [
        {
            "class": names[i],
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(actual[i]),
        }
        for i in range(len(hits))
    ]


def _blend(base: QColor, colour: QColor, amount: float) -> QColor:
    amount = min(max(amount, 0.0), 1.0)
    return QColor(
        round(base.red() + (colour.red() - base.red()) * amount),
        round(base.green() + (colour.green() - base.green()) * amount),
        round(base.blue() + (colour.blue() - base.blue()) * amount),
    )


class ConfusionModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.names: list[str] = []
        self.base = QColor("white")
        self.text = QColor("black")

    def set_matrix(self, matrix, names: list[str]) -> None:
        self.beginResetModel()
        self.matrix = np.asarray(matrix, dtype=np.int64)
        self.names = list(names)
        self.endResetModel()

    def rowCount(self, parent=None):
        return 0 if parent is not None and parent.isValid() else self.matrix.shape[0]

    def columnCount(self, parent=None):
        return 0 if parent is not None and parent.isValid() else self.matrix.shape[1]

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return self.names[section] if section < len(self.names) else str(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            side = "true" if orientation == Qt.Orientation.Vertical else "predicted"
            return f"{side} class {self.names[section]}"
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        count = int(self.matrix[row, column])
        row_total = int(self.matrix[row].sum())
        share = count / row_total if row_total else 0.0
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{count:,}"
        if role == Qt.ItemDataRole.UserRole:
            return (row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            if count == 0:
                return None
            colour = CORRECT if row == column else WRONG
            return _blend(self.base, colour, 0.12 + 0.88 * share**0.7)
        if role == Qt.ItemDataRole.ForegroundRole:
            if count and 0.12 + 0.88 * share**0.7 > 0.55:
                return QColor("white")
            return (
                self.text
                if count
                else QColor(self.text.red(), self.text.green(), self.text.blue(), 90)
            )
        if role == Qt.ItemDataRole.ToolTipRole:
            true, predicted = self.names[row], self.names[column]
            return f"true {true}, predicted {predicted}: {count:,} ({share:.1%} of {true})"
        return None


class ConfusionMatrixView(QTableView):
    cell_chosen = Signal(int, int)  # (true class, predicted class)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_ = ConfusionModel(self)
        self.setModel(self.model_)
        self.setAccessibleName("Confusion matrix")
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(True)
        self.setCornerButtonEnabled(False)
        side = self.fontMetrics().horizontalAdvance("00,000") + 12
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(self.fontMetrics().height() + 6)
            header.setHighlightSections(True)
        self.horizontalHeader().setMinimumSectionSize(side)
        self.clicked.connect(self._on_clicked)
        self.activated.connect(self._on_clicked)

    def set_matrix(self, matrix, names: list[str]) -> None:
        palette = self.palette()
        self.model_.base = palette.color(QPalette.ColorRole.Base)
        self.model_.text = palette.color(QPalette.ColorRole.Text)
        self.model_.set_matrix(matrix, names)

    def _on_clicked(self, index) -> None:
        if index.isValid():
            self.cell_chosen.emit(index.row(), index.column())


class EvaluationView(QWidget):
    cell_chosen = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.report: dict = {}
        self._rows_recorded = False  # the shown report came with per-sample rows
        self.heading = QLabel("Evaluate a finished run to see how it does on held-out data.")
        self.heading.setProperty("role", "secondary")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # classification
        self.matrix = ConfusionMatrixView()
        self.matrix.cell_chosen.connect(self._on_cell)
        matrix_box = QWidget()
        matrix_layout = QVBoxLayout(matrix_box)
        matrix_layout.setContentsMargins(0, 0, 0, 0)
        caption = QLabel(
            "Rows: true class · columns: predicted class. Click a cell for its samples."
        )
        caption.setProperty("role", "secondary")
        caption.setWordWrap(True)
        matrix_layout.addWidget(caption)
        matrix_layout.addWidget(self.matrix, 1)
        self.classes = QTableWidget(0, 5)
        self.classes.setAccessibleName("Per-class scores")
        self.classes.setHorizontalHeaderLabels(["Class", "Precision", "Recall", "F1", "Support"])
        self.classes.verticalHeader().hide()
        self.classes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.classes.setAlternatingRowColors(True)
        self.classes.setShowGrid(False)
        self.classes.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.predictions = PredictionsTable()
        self.cell_label = QLabel()
        self.cell_label.setProperty("role", "secondary")
        predictions_box = QWidget()
        predictions_layout = QVBoxLayout(predictions_box)
        predictions_layout.setContentsMargins(0, 4, 0, 0)
        predictions_layout.addWidget(self.cell_label)
        predictions_layout.addWidget(self.predictions, 1)
        self.details = QTabWidget()
        self.details.addTab(self.classes, "Per class")
        self.details.addTab(predictions_box, "Predictions")
        classification = QSplitter(Qt.Orientation.Horizontal)
        classification.addWidget(matrix_box)
        classification.addWidget(self.details)
        classification.setStretchFactor(0, 3)
        classification.setStretchFactor(1, 2)

        # regression
        self.scatter_plot = pg.PlotWidget()
        self.scatter_plot.setAccessibleName("Predicted against true")
        self.scatter_plot.setMenuEnabled(False)
        item = self.scatter_plot.getPlotItem()
        item.setLabel("bottom", "true")
        item.setLabel("left", "predicted")
        item.showGrid(x=True, y=True, alpha=0.15)
        self.identity = item.plot(pen=pg.mkPen("#888888", width=1, style=Qt.PenStyle.DashLine))
        self.scatter = pg.ScatterPlotItem(
            size=5, pen=None, brush=pg.mkBrush(61, 123, 224, 150), antialias=True
        )
        item.addItem(self.scatter)
        self.regression_predictions = PredictionsTable()
        regression = QSplitter(Qt.Orientation.Horizontal)
        regression.addWidget(self.scatter_plot)
        regression.addWidget(self.regression_predictions)
        regression.setStretchFactor(0, 1)
        regression.setStretchFactor(1, 0)
        em = self.fontMetrics().averageCharWidth()
        regression.setSizes([em * 62, em * 52])

        self.pages = QStackedWidget()
        self.empty = QWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(classification)
        self.pages.addWidget(regression)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.pages, 1)
        self._theme_plot()

    def _theme_plot(self) -> None:
        palette = self.palette()
        self.scatter_plot.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        for side in ("left", "bottom"):
            axis = self.scatter_plot.getPlotItem().getAxis(side)
            axis.setTextPen(pg.mkPen(text))
            axis.setPen(pg.mkPen(QColor(text.red(), text.green(), text.blue(), 140)))

    # --- inputs -------------------------------------------------------------------------------
    def clear(self, message: str = "") -> None:
        self.report = {}
        if message:
            self.heading.setText(message)
        self.pages.setCurrentWidget(self.empty)

    def set_report(
        self, report: dict, predictions: list[dict] | None = None, title: str = ""
    ) -> None:
        """Show a worker report (``task`` 'classification' with ``confusion_matrix``, ``classes``,
        ``per_class``; or 'regression' with ``pairs``, ``mae``, ``rmse``, ``r2``)."""
        self.report = dict(report)
        predictions = predictions if predictions is not None else report.get("predictions")
        task = report.get("task")
        if task == "regression" or (task is None and report.get("pairs")):
            pairs = np.asarray(report.get("pairs") or [], dtype=np.float64).reshape(-1, 2)
            self._show_regression(pairs[:, 0], pairs[:, 1], report, predictions, title)
            return
        matrix = np.asarray(report.get("confusion_matrix") or [], dtype=np.int64)
        if matrix.ndim != 2:
            matrix = np.zeros((0, 0), dtype=np.int64)
        names = [str(n) for n in report.get("classes") or range(matrix.shape[0])]
        self._show_classification(matrix, names, report, predictions or [], title)

    def set_classification(
        self, y_true, y_pred, probabilities=None, class_names=None, losses=None, title=""
    ) -> None:
        matrix = confusion_matrix(y_true, y_pred, len(class_names or []))
        names = list(class_names or []) + [
            str(i) for i in range(len(class_names or []), len(matrix))
        ]
        total = int(matrix.sum())
        report = {
            "task": "classification",
            "samples": total,
            "accuracy": float(np.trace(matrix) / total) if total else 0.0,
            "classes": names,
            "confusion_matrix": matrix.tolist(),
            "per_class": per_class(matrix, names),
        }
        self.report = report
        rows = classification_rows(y_true, y_pred, probabilities, losses)
        self._show_classification(matrix, names, report, rows, title)

    def set_regression(self, y_true, y_pred, title: str = "") -> None:
        true = np.asarray(y_true, dtype=np.float64).reshape(-1)
        pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
        error = pred - true
        variance = float(((true - true.mean()) ** 2).sum()) if true.size else 0.0
        report = {
            "task": "regression",
            "samples": int(true.size),
            "mae": float(np.abs(error).mean()) if true.size else 0.0,
            "rmse": float(np.sqrt((error**2).mean())) if true.size else 0.0,
            "r2": 1.0 - float((error**2).sum()) / variance if variance > 0 else 0.0,
        }
        self.report = report
        self._show_regression(true, pred, report, regression_rows(y_true, y_pred), title)

    # --- pages --------------------------------------------------------------------------------
    def _heading(self, title: str, report: dict, figures: list[str]) -> None:
        parts = [title] if title else []
        if report.get("split"):
            parts.append(f"{report['split']} split")
        if report.get("samples") is not None:
            parts.append(f"{int(report['samples']):,} samples")
        parts.extend(figures)
        self.heading.setText(" · ".join(parts))

    def _show_classification(self, matrix, names, report, rows, title) -> None:
        self.matrix.set_matrix(matrix, names)
        stats = report.get("per_class") or per_class(matrix, names)
        self.classes.setSortingEnabled(False)
        self.classes.setRowCount(len(stats))
        for row, entry in enumerate(stats):
            values = [
                str(entry.get("class", row)),
                entry.get("precision"),
                entry.get("recall"),
                entry.get("f1"),
                entry.get("support"),
            ]
            for column, value in enumerate(values):
                item = QTableWidgetItem()
                if isinstance(value, float):
                    item.setData(Qt.ItemDataRole.DisplayRole, round(value, 3))
                else:
                    item.setData(Qt.ItemDataRole.DisplayRole, value)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.classes.setItem(row, column, item)
        # Class order until the user sorts by a column.
        self.classes.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.classes.setSortingEnabled(True)
        self.predictions.set_rows(rows, names)
        self._rows_recorded = bool(rows)
        self.cell_label.setText(
            "All samples, highest loss first."
            if rows
            else "Per-sample predictions were not recorded."
        )
        accuracy = report.get("accuracy")
        figures = [f"accuracy {accuracy:.2%}"] if isinstance(accuracy, (int, float)) else []
        self._heading(title, report, figures)
        self.pages.setCurrentIndex(1)

    def _show_regression(self, true, pred, report, rows, title) -> None:
        self.scatter.setData(true, pred)
        if true.size:
            low = float(min(true.min(), pred.min()))
            high = float(max(true.max(), pred.max()))
            self.identity.setData([low, high], [low, high])
        else:
            self.identity.setData([], [])
        self.regression_predictions.set_rows(rows or [])
        figures = [
            f"{name} {report[key]:.4g}"
            for key, name in (("mae", "MAE"), ("rmse", "RMSE"), ("r2", "R²"))
            if isinstance(report.get(key), (int, float))
        ]
        self._heading(title, report, figures)
        self.pages.setCurrentIndex(2)

    def _on_cell(self, true: int, predicted: int) -> None:
        names = self.matrix.model_.names
        count = int(self.matrix.model_.matrix[true, predicted])
        self.predictions.proxy.set_pair((true, predicted))
        label = f"true {names[true]}, predicted {names[predicted]}: {count:,} samples"
        if not self._rows_recorded:
            label += " (per-sample predictions were not recorded)"
        self.cell_label.setText(label)
        self.details.setCurrentIndex(1)
        self.cell_chosen.emit(true, predicted)

    def show_all_predictions(self) -> None:
        self.predictions.proxy.set_pair(None)
        self.cell_label.setText("All samples, highest loss first.")
