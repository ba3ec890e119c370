"""What the export dialog shows while and after exporting: progress, the parity report, the history.

``ExportProgress``: a busy bar, the worker's current stage and the elapsed time, with Cancel.
``ExportReport``: the outcome (passed in green, failed/error in red), the parity figures, where the
parity batch came from, the runtime, the tolerance and the files, with Open Folder.
``ExportHistory``: the project's recorded exports, newest first; activating one opens its folder.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.export.targets import sheet_colours
from layerloom.app.workbench.export_targets import parity_line

STATUS_TITLES = {
    "passed": "✓ Passed",
    "failed": "✗ Parity check failed",
    "error": "✗ Export failed",
    "cancelled": "Cancelled",
}
STATUS_COLOUR_ROLE = {"passed": "ok", "failed": "error", "error": "error", "cancelled": "secondary"}


def status_colour(status: str) -> str:
    return sheet_colours()[STATUS_COLOUR_ROLE.get(status, "secondary")]


def format_error(value) -> str:
    return "–" if value is None else f"{value:.3g}"


def format_share(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def format_tolerance(tolerance: dict) -> str:
    words = []
    if tolerance.get("max_abs_error") is not None:
        words.append(f"max abs error ≤ {tolerance['max_abs_error']:g}")
    if tolerance.get("min_top1_agreement") is not None:
        words.append(f"top-1 agreement ≥ {tolerance['min_top1_agreement']:.0%}")
    if tolerance.get("other_outputs_max_abs_error") is not None:
        words.append(f"other outputs within {tolerance['other_outputs_max_abs_error']:g}")
    return "; ".join(words) or "–"


def format_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def local_time(stamp: str | None) -> str:
    """An ISO timestamp (the project stores UTC) as local "YYYY-MM-DD HH:MM"."""
    try:
        moment = datetime.fromisoformat(stamp or "")
    except ValueError:
        return stamp or ""
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def format_seconds(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


class ExportProgress(QWidget):
    """Busy bar, stage and elapsed time while the worker runs."""

    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600;")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # the worker reports stages, not fractions: a busy bar
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Export progress")
        self.stage = QLabel()
        self.stage.setWordWrap(True)
        self.elapsed = QLabel()
        self.elapsed.setProperty("role", "secondary")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the converter; nothing is recorded")
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        status = QHBoxLayout()
        status.addWidget(self.stage, 1)
        status.addWidget(self.elapsed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addLayout(status)
        layout.addStretch(1)

    def begin(self, title: str) -> None:
        self.title.setText(title)
        self.stage.setText("starting the converter…")
        self.elapsed.setText("0 s")
        self.cancel_button.setEnabled(True)

    def show_stage(self, stage: str, seconds: float) -> None:
        self.stage.setText(f"{stage}…" if stage and not stage.endswith("…") else stage)
        self.elapsed.setText(format_seconds(seconds))

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.stage.setText("cancelling…")


class ExportReport(QWidget):
    """The outcome of one export."""

    open_folder = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.folder = ""
        self.status = QLabel()
        self.status.setAccessibleName("Export status")
        self.status.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures = QFormLayout()
        self.figures.setContentsMargins(0, 4, 0, 4)
        self.figures.setVerticalSpacing(2)
        self.values: dict[str, QLabel] = {}
        for key, label in (
            ("max_abs_error", "Max abs error"),
            ("mean_abs_error", "Mean abs error"),
            ("top1_agreement", "Top-1 agreement"),
            ("samples", "Samples"),
            ("runtime", "Runtime"),
            ("tolerance", "Tolerance"),
            ("seconds", "Took"),
        ):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            caption = QLabel(label)
            caption.setProperty("role", "secondary")
            self.figures.addRow(caption, value)
            self.values[key] = value
        # What the target measured beyond parity (a microcontroller's flash and RAM), one line each.
        self.measured = QLabel()
        self.measured.setAccessibleName("Measured figures")
        self.measured.setWordWrap(True)
        self.measured.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.files_label = QLabel("Files")
        self.files_label.setProperty("role", "secondary")
        self.files = QListWidget()
        self.files.setAccessibleName("Exported files")
        self.files.setAlternatingRowColors(True)
        self.open_button = QPushButton("Open Folder")
        self.open_button.setToolTip("Show the exported files in the file manager")
        self.open_button.clicked.connect(lambda: self.open_folder.emit(self.folder))
        self.folder_label = QLabel()
        self.folder_label.setProperty("role", "secondary")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bottom = QHBoxLayout()
        bottom.addWidget(self.folder_label, 1)
        bottom.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.explanation)
        layout.addLayout(self.figures)
        layout.addWidget(self.measured)
        layout.addWidget(self.files_label)
        layout.addWidget(self.files, 1)
        layout.addLayout(bottom)

    def set_outcome(self, outcome, title: str) -> None:
        status = outcome.status
        self.folder = outcome.out_dir
        self.status.setText(f"{title}: {STATUS_TITLES.get(status, status)}")
        self.status.setStyleSheet(
            f"font-size: 13pt; font-weight: 600; color: {status_colour(status)};"
        )
        parity = dict(outcome.parity or {})
        if status == "passed":
            text = "The exported model gives the same answers as Keras, within the tolerance."
        elif status == "failed":
            text = (
                f"{parity.get('reason') or 'the outputs differ from Keras'}. The files were "
                "written; check them before shipping."
            )
        elif status == "cancelled":
            text = "The export was cancelled; nothing was recorded."
        else:
            text = outcome.error or "the export failed"
        self.explanation.setText(text)
        summary = parity_line(parity, outcome.runtime) if parity else ""
        self.status.setToolTip(summary)
        has_figures = status in ("passed", "failed")
        samples = parity.get("samples")
        source = outcome.sample_source or "unknown"
        self.values["max_abs_error"].setText(format_error(parity.get("max_abs_error")))
        self.values["mean_abs_error"].setText(format_error(parity.get("mean_abs_error")))
        self.values["top1_agreement"].setText(format_share(parity.get("top1_agreement")))
        self.values["samples"].setText(f"{samples} from {source}" if samples else "–")
        self.values["runtime"].setText(outcome.runtime or "–")
        self.values["tolerance"].setText(format_tolerance(parity.get("tolerance") or {}))
        self.values["seconds"].setText(format_seconds(outcome.seconds))
        for row in range(self.figures.rowCount()):
            if row < len(self.values) - 1:  # "Took" is always worth showing
                self.figures.setRowVisible(row, has_figures)
        measured = (outcome.details or {}).get("figures") or {}
        self.measured.setText("\n".join(f"{label}: {text}" for label, text in measured.items()))
        self.measured.setVisible(bool(measured))
        self.files.clear()
        folder = Path(outcome.out_dir)
        for name in outcome.files:
            path = Path(name)
            shown = path.relative_to(folder) if path.is_relative_to(folder) else path
            size = f"  ({format_size(path.stat().st_size)})" if path.is_file() else ""
            self.files.addItem(f"{shown}{size}")
            self.files.item(self.files.count() - 1).setToolTip(str(path))
        self.files_label.setVisible(bool(outcome.files))
        self.files.setVisible(bool(outcome.files))
        self.folder_label.setText(str(folder))
        self.open_button.setEnabled(folder.is_dir())

    def texts(self) -> dict[str, str]:
        """What the report says, for tests and screen readers."""
        out = {"status": self.status.text(), "explanation": self.explanation.text()}
        out.update({key: label.text() for key, label in self.values.items()})
        out["measured"] = self.measured.text()
        out["files"] = "\n".join(self.files.item(i).text() for i in range(self.files.count()))
        return out


class ExportHistory(QTreeWidget):
    """The project's exports, newest first; activating a row asks to open its folder."""

    open_folder = Signal(str)
    COLUMNS = ("#", "When", "Target", "Run", "Status", "Max abs error", "Folder")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Export history")
        self.setColumnCount(len(self.COLUMNS))
        self.setHeaderLabels(list(self.COLUMNS))
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        header = self.header()
        header.setStretchLastSection(True)
        for column in range(len(self.COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.itemActivated.connect(lambda item, _column: self.open_folder.emit(item.text(6)))

    placeholder = "No exports yet: each export is listed here with its parity check."

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.topLevelItemCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)

    def set_records(self, records, titles: dict[str, str]) -> None:
        self.clear()
        for record in records:
            when = local_time(record.created_at)
            error = record.parity.get("max_abs_error")
            item = QTreeWidgetItem(
                [
                    str(record.id),
                    when,
                    titles.get(record.target, record.target),
                    f"#{record.run_id}" if record.run_id is not None else "–",
                    record.status,
                    format_error(error) if isinstance(error, (int, float)) else "–",
                    record.path,
                ]
            )
            item.setForeground(4, QBrush(QColor(status_colour(record.status))))
            item.setToolTip(6, record.path)
            if record.parity.get("error"):
                item.setToolTip(4, record.parity["error"])
            self.addTopLevelItem(item)

    def rows(self) -> list[list[str]]:
        return [
            [self.topLevelItem(i).text(c) for c in range(self.columnCount())]
            for i in range(self.topLevelItemCount())
        ]
