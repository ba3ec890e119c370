"""The progress strip above the curves: Train / Stop / Resume, status, epoch x/N, step, ETA, speed.

It reads the same worker events as the plots (``add_event``) and keeps only a handful of numbers,
so updating it on every drained batch is cheap. The buttons only emit signals; the panel decides
what they do.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from layerloom.app.gui.theme import SHEET_COLOURS
from layerloom.app.gui.training.events import event_type, first_int
from layerloom.app.gui.wording import gui_text

# status -> (text, colour name in theme.SHEET_COLOURS)
STATUSES = {
    "idle": ("Ready", "secondary"),
    "starting": ("Starting…", None),
    "running": ("Training", None),
    "stopping": ("Stopping after this batch…", None),
    "finished": ("Finished", "ok"),
    "cancelled": ("Stopped", "secondary"),
    "failed": ("Failed", "error"),
    "diverged": ("Diverged (loss became NaN/inf)", "error"),
    "refused": ("Not started", "error"),
}


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_rate(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{value / 1000:,.0f}k samples/s"
    return f"{value:,.0f} samples/s" if value >= 10 else f"{value:.1f} samples/s"


class ProgressStrip(QWidget):
    start_requested = Signal()
    stop_requested = Signal()
    resume_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state = "idle"  # a key of STATUSES; set_state changes it
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the current graph with these settings (F5)")
        self.train_button.setDefault(False)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch; the run keeps its checkpoints")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the selected stopped run from its last checkpoint")
        self.train_button.clicked.connect(self.start_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.resume_button.clicked.connect(self.resume_requested)

        self.status = QLabel()
        self.status.setMinimumWidth(self.fontMetrics().averageCharWidth() * 14)
        self.epoch_label = QLabel()
        self.step_label = QLabel()
        self.eta_label = QLabel()
        self.rate_label = QLabel()
        for label in (self.step_label, self.eta_label, self.rate_label):
            label.setProperty("role", "secondary")
            # An explicit minimum lets a narrow dock clip these rather than grow wider.
            label.setMinimumWidth(self.fontMetrics().averageCharWidth() * 6)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(self.fontMetrics().height() // 2 + 4)
        self.bar.setAccessibleName("Training progress")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(8)
        for button in (self.train_button, self.stop_button, self.resume_button):
            layout.addWidget(button)
        layout.addSpacing(8)
        layout.addWidget(self.status)
        layout.addWidget(self.epoch_label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.step_label)
        layout.addWidget(self.eta_label)
        layout.addWidget(self.rate_label)
        self.reset()
        self.set_state("idle")

    # --- state --------------------------------------------------------------------------------
    def reset(self) -> None:
        self.epochs: int | None = None
        self.steps_per_epoch: int | None = None
        self.epoch = 0
        self.step = 0
        self.global_step = 0
        self.initial_step = 0
        self.started_at: float | None = None
        self.last_time: float | None = None
        self.rate: float | None = None
        self.eta: float | None = None
        self._refresh()

    def set_state(self, state: str, detail: str = "") -> None:
        """Show ``state`` (a key of STATUSES) and enable the buttons that make sense in it."""
        self.state = state
        detail = gui_text(detail)  # a worker's or workbench's reason may name a CLI command
        text, role = STATUSES.get(state, (state.capitalize(), None))
        self.status.setText(f"{text}: {detail}" if detail else text)
        self.status.setToolTip(detail)
        app = QApplication.instance()
        colours = SHEET_COLOURS[bool(app and app.property("layerloom_dark"))]
        colour = f"color: {colours[role]};" if role in colours else ""
        self.status.setStyleSheet(f"QLabel {{ {colour} font-weight: 600; }}")
        busy = state in ("starting", "running", "stopping")
        self.train_button.setEnabled(not busy)
        self.stop_button.setEnabled(state in ("starting", "running"))
        self.resume_button.setEnabled(not busy and self._can_resume)

    _can_resume = False

    def set_can_resume(self, can: bool) -> None:
        self._can_resume = can
        self.resume_button.setEnabled(can and self.state not in ("starting", "running", "stopping"))

    def add_event(self, event: dict) -> None:
        kind = event_type(event)
        time = event.get("time")
        if kind == "started":
            self.reset()
            self.epochs = first_int(event, "epochs")
            self.steps_per_epoch = first_int(event, "steps_per_epoch")
            self.epoch = (first_int(event, "initial_epoch") or 0) + 1
            self.initial_step = self.global_step = first_int(event, "initial_step") or 0
            self.started_at = time
            if self.state != "stopping":  # Stop pressed before the worker started
                self.set_state("running")
        elif kind == "batch":
            self.epoch = first_int(event, "epoch") or self.epoch
            self.step = first_int(event, "step") or self.step
            self.global_step = first_int(event, "global_step") or self.global_step
            rate = event.get("samples_per_second")
            if isinstance(rate, (int, float)) and rate > 0:  # smoothed: batches vary
                self.rate = rate if self.rate is None else 0.8 * self.rate + 0.2 * rate
        elif kind == "epoch":
            self.epoch = first_int(event, "epoch") or self.epoch
            self.step = self.steps_per_epoch or self.step
            self.global_step = first_int(event, "global_step") or self.global_step
        elif kind == "finished":
            status = event.get("status", "finished")
            self.eta = None
            if status == "finished":
                self.step = self.steps_per_epoch or self.step
            self.set_state(status if status in STATUSES else "finished")
        elif kind == "failed":
            self.eta = None
            self.set_state("failed", str(event.get("reason") or "the worker stopped"))
        if isinstance(time, (int, float)):
            self.last_time = time
            self._estimate()
        self._refresh()

    def _total_steps(self) -> int | None:
        if self.epochs and self.steps_per_epoch:
            return self.epochs * self.steps_per_epoch
        return None

    def _estimate(self) -> None:
        total = self._total_steps()
        done = self.global_step - self.initial_step
        if (
            self.state not in ("running", "stopping")
            or not total
            or self.started_at is None
            or done <= 0
        ):
            return
        elapsed = self.last_time - self.started_at
        self.eta = elapsed / done * max(total - self.global_step, 0)

    # --- text ---------------------------------------------------------------------------------
    def _refresh(self) -> None:
        if self.epochs:
            self.epoch_label.setText(f"Epoch {min(self.epoch, self.epochs)} / {self.epochs}")
        else:
            self.epoch_label.setText("Epoch –")
        if self.steps_per_epoch:
            self.step_label.setText(f"step {self.step:,} / {self.steps_per_epoch:,}")
        else:
            self.step_label.setText(f"step {self.step:,}" if self.step else "")
        total = self._total_steps()
        fraction = min(self.global_step / total, 1.0) if total else 0.0
        self.bar.setValue(int(fraction * 1000))
        state = self.state
        if state == "running" and self.eta:
            self.eta_label.setText(f"ETA {format_duration(self.eta)}")
        elif state in ("finished", "cancelled", "failed") and self.started_at and self.last_time:
            self.eta_label.setText(f"took {format_duration(self.last_time - self.started_at)}")
        else:
            self.eta_label.setText("")
        self.rate_label.setText(format_rate(self.rate) if self.rate else "")

    def texts(self) -> dict[str, str]:
        """What the strip shows, for tests and accessibility checks."""
        return {
            "status": self.status.text(),
            "epoch": self.epoch_label.text(),
            "step": self.step_label.text(),
            "eta": self.eta_label.text(),
            "rate": self.rate_label.text(),
        }
