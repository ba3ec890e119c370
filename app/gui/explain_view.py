"""The Explain view: why the model predicted what it did for files the user picks.

A self-contained widget (``ExplainView(document)``) any panel can host: the Look Inside dock has
it as a tab, and the Predict panel may host it too. It runs an ``explain`` job (Grad-CAM for
image models, integrated gradients for tabular ones, ``app.workbench.explaining``) in a worker
off the GUI thread and shows, per input, the prediction and either the heatmap over the image or
the attributions per column as signed bars (largest first).
"""

from __future__ import annotations

import base64
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.training.offthread import one_line, run_off_thread
from layerloom.app.workbench.explaining import finish_explanation, prepare_explanation
from layerloom.app.workbench.inspecting import run_prepared
from layerloom.nodes.errors import LayerloomError

MAX_BARS = 12
POSITIVE, NEGATIVE = QColor("#2e7d32"), QColor("#c62828")


class AttributionBars(QWidget):
    """Signed horizontal bars, one per column, the largest attribution first."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[tuple[str, float]] = []
        self.setMinimumHeight(120)

    def set_attributions(self, attributions: dict[str, float]) -> None:
        ranked = sorted(attributions.items(), key=lambda kv: -abs(kv[1]))
        self.items = ranked[:MAX_BARS]
        self.setToolTip("\n".join(f"{name}: {value:+.4g}" for name, value in ranked))
        self.update()

    def sizeHint(self):
        return QSize(320, 22 * max(len(self.items), 3))

    def paintEvent(self, event):
        if not self.items:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        label_width = min(
            self.width() * 0.4, max(metrics.horizontalAdvance(n) for n, _ in self.items) + 8
        )
        row = min(22.0, self.height() / len(self.items))
        middle = label_width + (self.width() - label_width) / 2
        half = (self.width() - label_width) / 2 - 50
        largest = max(abs(v) for _, v in self.items) or 1.0
        text = self.palette().text().color()
        for index, (name, value) in enumerate(self.items):
            top = index * row
            painter.setPen(text)
            label = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, int(label_width - 8))
            painter.drawText(
                QRectF(0, top, label_width - 8, row),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            length = half * abs(value) / largest
            left = middle if value >= 0 else middle - length
            painter.fillRect(
                QRectF(left, top + 4, length, row - 8), POSITIVE if value >= 0 else NEGATIVE
            )
            where = (
                QRectF(middle + length + 4, top, 60, row)
                if value >= 0
                else QRectF(middle - length - 64, top, 60, row)
            )
            align = Qt.AlignmentFlag.AlignVCenter | (
                Qt.AlignmentFlag.AlignLeft if value >= 0 else Qt.AlignmentFlag.AlignRight
            )
            painter.drawText(where, align, f"{value:+.3g}")
        painter.setPen(self.palette().mid().color())
        painter.drawLine(int(middle), 0, int(middle), int(row * len(self.items)))


class ExplainView(QWidget):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.files: list[str] = []
        self.explanation = None
        self._task = None
        self.backend = None  # where jobs run: None is the local worker (tests may choose)
        self.pick = QPushButton("Choose Inputs…")
        self.pick.setToolTip("Images, CSV files or .npz files to explain")
        self.which = QComboBox()
        self.which.setAccessibleName("Class to explain")
        self.which.setEditable(True)
        self.which.addItem("Predicted class")
        self.run_button = QPushButton("Explain")
        self.run_button.setEnabled(False)
        self.status = QLabel("Choose images or CSV rows to see why the model predicted them.")
        self.status.setWordWrap(True)
        self.rows = QListWidget()
        self.rows.setAccessibleName("Explained inputs")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(160, 160)
        self.bars = AttributionBars()
        self.detail = QStackedWidget()
        self.detail.addWidget(self.picture)
        self.detail.addWidget(self.bars)
        top = QHBoxLayout()
        for widget in (self.pick, self.which, self.run_button):
            top.addWidget(widget)
        top.addStretch(1)
        split = QSplitter()
        split.addWidget(self.rows)
        split.addWidget(self.detail)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self.pick.clicked.connect(self._choose)
        self.run_button.clicked.connect(self.explain)
        self.rows.currentRowChanged.connect(self._show_row)

    def set_document(self, document) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.document = document
        self.explanation = None
        self.rows.clear()

    def _choose(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Explain", "", "Inputs (*.png *.jpg *.jpeg *.gif *.bmp *.csv *.tsv *.npz)"
        )
        if paths:
            self.set_files(paths)

    def set_files(self, paths: list[str]) -> None:
        self.files = list(paths)
        self.run_button.setEnabled(bool(self.files))
        self.status.setText(f"{len(self.files)} input file(s) chosen")

    def explain(self) -> None:
        opened = self.document.opened
        if opened is None or not self.files or self._task is not None:
            return
        wanted = self.which.currentText().strip()
        class_name = (
            None if self.which.currentIndex() == 0 and wanted == self.which.itemText(0) else wanted
        )
        try:
            prepared = prepare_explanation(opened, self.files, class_name=class_name)
        except LayerloomError as error:
            self.status.setText(one_line(error))
            return
        self.status.setText(f"Explaining with {prepared.reason}…")
        self.run_button.setEnabled(False)
        self._task = run_off_thread(
            lambda report: run_prepared(prepared, "explanation", self.backend),
            lambda result, error: self._done(prepared, result, error),
            name="layerloom-explain",
        )

    def _done(self, prepared, result, error) -> None:
        self._task = None
        self.run_button.setEnabled(bool(self.files))
        if error:
            self.status.setText(error)
            return
        self.explanation = finish_explanation(prepared, result)
        found = self.explanation
        how = (
            f"Grad-CAM over {found.node}"
            if found.method == "grad-cam"
            else f"integrated gradients from the {found.baseline}"
        )
        self.status.setText(f"{how} · {found.reason}")
        self.rows.clear()
        for row in found.rows:
            prediction = row["prediction"]
            shown = f"{prediction:.4g}" if isinstance(prediction, float) else str(prediction)
            if row.get("explained", prediction) != prediction:
                shown += f" (explaining {row['explained']})"
            self.rows.addItem(f"{Path(row['input']).name} → {shown}")
        self.rows.setCurrentRow(0)

    def _show_row(self, index: int) -> None:
        if self.explanation is None or not 0 <= index < len(self.explanation.rows):
            return
        row = self.explanation.rows[index]
        if "attributions" in row:
            self.bars.set_attributions(row["attributions"])
            self.detail.setCurrentWidget(self.bars)
            return
        image = QImage.fromData(base64.b64decode(row["overlay_png"]), "PNG")
        pixmap = QPixmap.fromImage(image)
        size = self.picture.size()
        if pixmap.width() < size.width() / 2:  # small inputs: enlarge, keeping pixels sharp
            pixmap = pixmap.scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
            )
        self.picture.setPixmap(pixmap)
        self.picture.setToolTip(
            f"{row['input']}: heat peaks at row {row['peak'][0]}, column {row['peak'][1]}"
        )
        self.detail.setCurrentWidget(self.picture)
