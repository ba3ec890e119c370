"""Live training curves: one plot for the loss and one per metric, train and validation together.

``MetricPlots.add_event(event)`` only appends numbers to growing numpy buffers; a ~30 Hz timer
pushes the buffers that changed to their curves. A run with 100k batches therefore costs one append
per event and one ``setData`` per frame, and the batch curves keep redraws cheap with width-1 pens,
peak downsampling and clip-to-view.

Two x axes: *Epochs* (epoch ends at 1, 2, 3 ...; batches at fractions of an epoch when the run said
how many steps an epoch has) and *Steps* (every batch at its global step, epoch ends where they
happened). ``show_runs`` switches to an overlay of several finished runs' epoch curves, one colour
per run; ``show_live`` switches back.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.training.events import (
    base_name,
    epoch_rows,
    event_type,
    first_int,
    metrics_of,
)

FRAME_MS = 33  # ~30 Hz
TRAIN_COLOUR = "#3d7be0"
VAL_COLOUR = "#e8833a"
# Distinct, colour-blind friendly (Okabe-Ito + Tableau) colours for overlaid runs.
RUN_COLOURS = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#d55e00",
    "#56b4e9",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
TITLES = {"loss": "Loss", "accuracy": "Accuracy", "mae": "MAE", "mse": "MSE"}


def metric_title(name: str) -> str:
    return TITLES.get(name, name.replace("_", " ").capitalize())


def _epoch_curve(item, name: str, colour):
    """A per-epoch curve: few points, so dots and antialiasing cost nothing."""
    return item.plot(
        name=name,
        pen=pg.mkPen(colour, width=2),
        symbol="o",
        symbolSize=5,
        symbolPen=None,
        symbolBrush=colour,
        antialias=True,
    )


class Series:
    """Rows of float columns that grow geometrically (amortised O(1) appends, no Python lists)."""

    __slots__ = ("data", "n")

    def __init__(self, columns: int, capacity: int = 256):
        self.data = np.empty((capacity, columns), dtype=np.float64)
        self.n = 0

    def append(self, *values: float) -> None:
        if self.n == len(self.data):
            grown = np.empty((len(self.data) * 2, self.data.shape[1]), dtype=np.float64)
            grown[: self.n] = self.data
            self.data = grown
        self.data[self.n] = values
        self.n += 1

    def column(self, index: int) -> np.ndarray:
        return self.data[: self.n, index]

    def __len__(self) -> int:
        return self.n


# Column indices: batch rows are (global step, epoch position, value); epoch rows the same.
STEP, EPOCH, VALUE = 0, 1, 2


class EpochAxis(pg.AxisItem):
    """A bottom axis that, while it counts epochs, labels whole epochs only (no "1.5")."""

    whole = True

    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal, maxVal, size)
        if not self.whole:
            return levels
        out = []
        for spacing, values in levels:
            if spacing < 1:
                continue
            out.append((spacing, [v for v in values if float(v).is_integer()]))
        return out or [(1.0, [float(v) for v in range(int(np.ceil(minVal)), int(maxVal) + 1)])]


class MetricPlot:
    """One metric's PlotWidget and its curves (train/val per epoch, train per batch, overlays)."""

    def __init__(self, name: str, theme: dict):
        self.name = name
        self.axis = EpochAxis("bottom")
        self.widget = pg.PlotWidget(axisItems={"bottom": self.axis})
        self.widget.setAccessibleName(f"{metric_title(name)} plot")
        self.widget.setMinimumSize(160, 120)
        item = self.widget.getPlotItem()
        item.setTitle(metric_title(name), color=theme["text"], size="10pt")
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        self.batch = item.plot(
            name="train (batch)",
            pen=pg.mkPen(theme["batch"], width=1),
            antialias=False,
        )
        self.batch.setDownsampling(auto=True, method="peak")
        self.batch.setClipToView(True)
        self.batch.setZValue(-1)
        self.train = _epoch_curve(item, "train", TRAIN_COLOUR)
        self.val = _epoch_curve(item, "validation", VAL_COLOUR)
        self.overlays: list = []
        self.apply_theme(theme)

    def apply_theme(self, theme: dict) -> None:
        self.widget.setBackground(theme["background"])
        item = self.widget.getPlotItem()
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(theme["axis"]))
            axis.setTextPen(pg.mkPen(theme["text"]))

    def set_x_label(self, text: str) -> None:
        self.axis.whole = text == "epoch"
        self.axis.picture = None  # re-tick
        self.widget.getPlotItem().setLabel("bottom", text)

    def clear_overlays(self) -> None:
        item = self.widget.getPlotItem()
        for curve in self.overlays:
            item.removeItem(curve)
        self.overlays.clear()

    def set_live_visible(self, visible: bool, batches: bool) -> None:
        self.train.setVisible(visible)
        self.val.setVisible(visible)
        self.batch.setVisible(visible and batches)


class MetricPlots(QWidget):
    """The curves of one live run (``add_event``) or of several stored runs (``show_runs``)."""

    mode_changed = Signal(str)  # "live" or "overlay"

    def __init__(self, parent=None, columns: int = 3):
        super().__init__(parent)
        self.columns = columns
        self.plots: dict[str, MetricPlot] = {}
        self.batches: dict[str, Series] = {}
        self.epochs: dict[str, Series] = {}
        self._dirty: set[str] = set()
        self._overlay: dict | None = None
        self._history: dict = {}  # recorded epochs of the shown run (set_history), not yet drawn
        self.frames = 0  # how many flushes pushed data (tests read it; no timing)
        self._theme = self._theme_colours()
        self.reset()

        self.x_axis = QComboBox()
        self.x_axis.addItems(["Epochs", "Steps"])
        self.x_axis.setAccessibleName("X axis")
        self.x_axis.setToolTip("Plot against epochs or against training steps (batches)")
        self.x_axis.currentIndexChanged.connect(lambda _i: self._restyle())
        self.show_batches = QCheckBox("Batches")
        self.show_batches.setChecked(True)
        self.show_batches.setToolTip("Show the training value of every batch")
        self.show_batches.toggled.connect(lambda _on: self._restyle())
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Logarithmic y axis")
        self.log_scale.toggled.connect(self._on_log)
        self.legend = QLabel()
        self.legend.setAccessibleName("Legend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        # An explicit minimum width lets it clip in a narrow dock instead of widening it.
        self.legend.setMinimumWidth(self.fontMetrics().averageCharWidth() * 20)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("X axis:"))
        bar.addWidget(self.x_axis)
        bar.addSpacing(8)
        bar.addWidget(self.show_batches)
        bar.addWidget(self.log_scale)
        bar.addSpacing(16)
        bar.addWidget(self.legend)
        bar.addStretch(1)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(self.grid, 1)
        self._plot("loss")
        self._update_legend()

        self.timer = QTimer(self, interval=FRAME_MS)
        self.timer.timeout.connect(self.flush)
        self.timer.start()

    # --- theme --------------------------------------------------------------------------------
    def _theme_colours(self) -> dict:
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        dark = base.lightness() < 128
        batch = QColor(TRAIN_COLOUR)
        batch.setAlpha(90 if dark else 70)
        axis = QColor(text)
        axis.setAlpha(140)
        return {"background": base, "text": text, "axis": axis, "batch": batch}

    # --- live data ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the live run (a new run starts)."""
        for series in (*self.batches.values(), *self.epochs.values()):
            series.n = 0
        self._dirty.update(self.plots)
        self.steps_per_epoch: int | None = None
        self.total_epochs: int | None = None
        self.global_step = 0
        self._epoch = 1  # the 1-based epoch in progress (used only if an event omits it)

    def add_event(self, event: dict) -> None:
        """Buffer one worker event (``backends.protocol``); nothing is drawn until the next frame."""
        kind = event_type(event)
        if kind == "batch":
            self._on_batch(event)
        elif kind == "epoch":
            self._on_epoch(event)
        elif kind == "started":
            self.reset()
            self.steps_per_epoch = first_int(event, "steps_per_epoch") or None
            self.total_epochs = first_int(event, "epochs")
            self.global_step = first_int(event, "initial_step") or 0
            self._epoch = (first_int(event, "initial_epoch") or 0) + 1
            self._add_history(self._epoch - 1)

    def set_history(self, rows) -> None:
        """Epochs a resumed run continues from (the earlier run's events or metric rows): drawn
        before the run's own epochs when its ``started`` event arrives. ``None`` clears them."""
        self._history = epoch_rows(rows or [])

    def _add_history(self, before_epoch: int) -> None:
        history, self._history = self._history, {}
        for name, (epochs, values) in history.items():
            series = self.epochs.setdefault(name, Series(3, 64))
            for epoch, value in zip(epochs, values, strict=True):
                if epoch <= before_epoch:
                    step = epoch * self.steps_per_epoch if self.steps_per_epoch else np.nan
                    series.append(step, epoch, value)
            self._dirty.add(base_name(name))

    def add_events(self, events) -> None:
        for event in events:
            self.add_event(event)

    def _on_batch(self, event: dict) -> None:
        # Epochs and steps are 1-based; batch metrics are running means over the epoch so far.
        step = first_int(event, "global_step")
        self.global_step = step if step is not None else self.global_step + 1
        epoch = first_int(event, "epoch") or self._epoch
        self._epoch = epoch
        in_epoch = first_int(event, "step")
        if self.steps_per_epoch and in_epoch is not None:
            position = epoch - 1 + in_epoch / self.steps_per_epoch
        else:
            position = np.nan  # placed on the Steps axis only
        for name, value in metrics_of(event).items():
            series = self.batches.get(name)
            if series is None:
                series = self.batches[name] = Series(3, 1024)
            series.append(self.global_step, position, value)
            self._dirty.add(base_name(name))

    def _on_epoch(self, event: dict) -> None:
        epoch = first_int(event, "epoch") or self._epoch
        self._epoch = epoch + 1
        step = first_int(event, "global_step")
        if step is not None:
            self.global_step = step
        for name, value in metrics_of(event).items():
            series = self.epochs.get(name)
            if series is None:
                series = self.epochs[name] = Series(3, 64)
            series.append(self.global_step, epoch, value)
            self._dirty.add(base_name(name))

    # --- drawing ------------------------------------------------------------------------------
    def _plot(self, name: str) -> MetricPlot:
        plot = self.plots.get(name)
        if plot is None:
            plot = self.plots[name] = MetricPlot(name, self._theme)
            order = sorted(self.plots, key=lambda n: (n != "loss", n))
            for index, key in enumerate(order):
                self.grid.removeWidget(self.plots[key].widget)
                self.grid.addWidget(
                    self.plots[key].widget, index // self.columns, index % self.columns
                )
            used = min(len(self.plots), self.columns)
            for column in range(self.columns):
                self.grid.setColumnStretch(column, 1 if column < used else 0)
            plot.widget.getPlotItem().setLogMode(False, self.log_scale.isChecked())
            self._style_plot(plot)
        return plot

    def flush(self) -> None:
        """Push the changed buffers to their curves (the timer calls this ~30 times a second)."""
        if not self._dirty or self._overlay is not None:
            return
        dirty, self._dirty = self._dirty, set()
        steps = self.x_axis.currentIndex() == 1
        for name in sorted(dirty):
            plot = self._plot(name)
            self._set(plot.train, self.epochs.get(name), steps)
            self._set(plot.val, self.epochs.get(f"val_{name}"), steps)
            self._set(plot.batch, self.batches.get(name), steps)
        self.frames += 1

    @staticmethod
    def _set(curve, series: Series | None, steps: bool) -> None:
        if series is None or len(series) == 0:
            curve.setData([], [])
            return
        x = series.column(STEP if steps else EPOCH)
        y = series.column(VALUE)
        if not steps and np.isnan(x[-1]):
            curve.setData([], [])  # no epoch positions (unknown epoch length)
            return
        curve.setData(x, y)

    def curve_points(self, name: str, which: str = "train") -> int:
        """How many points a live curve shows now (``which``: train, val or batch)."""
        plot = self.plots.get(name)
        if plot is None:
            return 0
        x, _y = getattr(plot, which).getOriginalDataset()
        return 0 if x is None else len(x)

    def _update_legend(self) -> None:
        """The legend for the mode, and the toggles that apply to it (stored runs are per epoch:
        no steps axis, no batches)."""
        self.x_axis.setEnabled(self._overlay is None)
        self.show_batches.setEnabled(self._overlay is None)

        def swatch(colour: str, label: str, dashed: bool = False) -> str:
            line = "╍╍" if dashed else "━━"
            return f'<span style="color:{colour}">{line}</span>&nbsp;{label}'

        if self._overlay is None:
            entries = [swatch(TRAIN_COLOUR, "train"), swatch(VAL_COLOUR, "validation")]
            if self.show_batches.isChecked():
                batch = self._theme["batch"]
                base = self._theme["background"]
                alpha = batch.alphaF() * 1.6  # the swatch is thin text: a little stronger
                mixed = QColor.fromRgbF(
                    *(
                        c * alpha + b * (1 - alpha)
                        for c, b in zip(batch.getRgbF()[:3], base.getRgbF()[:3], strict=True)
                    )
                )
                entries.append(swatch(mixed.name(), "train, per batch"))
        else:
            entries = [
                swatch(RUN_COLOURS[index % len(RUN_COLOURS)], f"run {run_id}")
                for index, run_id in enumerate(self._overlay)
            ]
            entries.append(swatch(self._theme["text"].name(), "validation", dashed=True))
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(entries))

    def _restyle(self) -> None:
        self._update_legend()
        for plot in self.plots.values():
            self._style_plot(plot)
        if self._overlay is not None:
            self.show_runs(self._overlay)
        else:
            self._dirty.update(self.plots)
            self.flush()

    def _style_plot(self, plot: MetricPlot) -> None:
        steps = self.x_axis.currentIndex() == 1 and self._overlay is None
        plot.set_x_label("step" if steps else "epoch")
        plot.set_live_visible(self._overlay is None, self.show_batches.isChecked())

    def _on_log(self, on: bool) -> None:
        for plot in self.plots.values():
            plot.widget.getPlotItem().setLogMode(False, on)

    # --- overlay of stored runs ---------------------------------------------------------------
    @property
    def mode(self) -> str:
        return "live" if self._overlay is None else "overlay"

    def show_runs(self, runs: dict) -> None:
        """Overlay the epoch curves of several runs: ``{run_id: [epoch events or metric rows]}``.

        Each run gets one colour; training is a solid line, validation a dashed one.
        """
        was = self.mode
        self._overlay = dict(runs)
        series = {run_id: epoch_rows(rows) for run_id, rows in self._overlay.items()}
        names = {base_name(m) for per_run in series.values() for m in per_run}
        for name in names:
            self._plot(name)
        for name, plot in self.plots.items():
            plot.clear_overlays()
            item = plot.widget.getPlotItem()
            for index, (run_id, per_run) in enumerate(series.items()):
                colour = RUN_COLOURS[index % len(RUN_COLOURS)]
                for metric, style, label in (
                    (name, Qt.PenStyle.SolidLine, f"run {run_id}"),
                    (f"val_{name}", Qt.PenStyle.DashLine, f"run {run_id} val"),
                ):
                    if metric not in per_run:
                        continue
                    x, y = per_run[metric]
                    curve = item.plot(
                        x,
                        y,
                        name=label,
                        pen=pg.mkPen(colour, width=2, style=style),
                        symbol="o",
                        symbolSize=4,
                        symbolPen=None,
                        symbolBrush=colour,
                    )
                    plot.overlays.append(curve)
            self._style_plot(plot)
        self._update_legend()
        if was != self.mode:
            self.mode_changed.emit(self.mode)

    def overlay_curves(self, name: str) -> int:
        plot = self.plots.get(name)
        return 0 if plot is None else len(plot.overlays)

    def show_live(self) -> None:
        if self._overlay is None:
            return
        self._overlay = None
        for plot in self.plots.values():
            plot.clear_overlays()
            self._style_plot(plot)
        self._update_legend()
        self._dirty.update(self.plots)
        self.flush()
        self.mode_changed.emit(self.mode)
