"""The Health tab: a chosen health figure over the steps, one curve per node, and the findings.

Live, ``add_event`` takes the worker's ``health`` events (and a diverged run's ``finished`` event,
whose ``nonfinite`` names the node that first became non-finite); for a stored run ``show_report``
takes what ``app.workbench.health.health_report`` read from the project, findings included. The
figure chosen here also colours the canvas when "Colour nodes" is on: the view hands the latest
figures to the document's ``HealthOverlay``, which the canvas scene observes.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.health_overlay import LOGARITHMIC
from layerloom.app.gui.training.plots import RUN_COLOURS
from layerloom.app.workbench.health import FIGURES, nonfinite_sentence

TITLES = {
    "grad_norm": "Gradient norm",
    "weight_norm": "Weight norm",
    "update_ratio": "Update / weight ratio (per step)",
    "activation_mean": "Activation mean",
    "activation_std": "Activation std",
    "dead_fraction": "Dead units (fraction)",
    "saturated_fraction": "Saturated units (fraction)",
}
EMPTY = "No health figures yet: they are sampled while a run trains (train with health on)."


class HealthView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.overlay = None  # the document's HealthOverlay (set_overlay)
        self.series: dict[str, list[tuple[int, dict]]] = {}  # node -> [(step, figures)]
        self.nonfinite: dict | None = None
        self.figure = QComboBox()
        self.figure.setAccessibleName("Health figure")
        for name in FIGURES:
            self.figure.addItem(TITLES[name], name)
        self.figure.setCurrentIndex(FIGURES.index("grad_norm"))
        self.figure.currentIndexChanged.connect(lambda _i: self._redraw())
        self.colour_nodes = QCheckBox("Colour nodes")
        self.colour_nodes.setToolTip("Colour the canvas's nodes by this figure's latest value")
        self.colour_nodes.setChecked(True)
        self.colour_nodes.toggled.connect(lambda _on: self._push_overlay())
        top = QHBoxLayout()
        top.addWidget(QLabel("Figure"))
        top.addWidget(self.figure, 1)
        top.addWidget(self.colour_nodes)

        self.plot = pg.PlotWidget()
        self.plot.setAccessibleName("Health plot")
        self.plot.setMinimumSize(200, 120)
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.setLabel("bottom", "step")
        self.legend = item.addLegend(offset=(-10, 10))
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        for side in ("left", "bottom"):
            item.getAxis(side).setTextPen(pg.mkPen(text))

        self.diverged = QLabel()
        self.diverged.setWordWrap(True)
        self.diverged.setStyleSheet("color: #d32f2f; font-weight: bold;")
        self.diverged.setAccessibleName("Where the run became non-finite")
        self.diverged.hide()
        self.findings = QListWidget()
        self.findings.setAccessibleName("Health findings")
        self.findings.setWordWrap(True)
        self.findings.setSpacing(3)
        findings_box = QWidget()
        below = QVBoxLayout(findings_box)
        below.setContentsMargins(0, 0, 0, 0)
        below.addWidget(QLabel("Findings"))
        below.addWidget(self.findings, 1)
        split = QSplitter()
        split.setChildrenCollapsible(False)
        split.addWidget(self.plot)
        split.addWidget(findings_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.diverged)
        layout.addWidget(split, 1)
        self.reset()

    # --- input --------------------------------------------------------------------------------
    def set_overlay(self, overlay) -> None:
        self.overlay = overlay
        self._push_overlay()

    def reset(self) -> None:
        self.series, self.nonfinite = {}, None
        self._set_findings(None)
        self._redraw()

    def add_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "health":
            for node, figures in (event.get("nodes") or {}).items():
                self.series.setdefault(node, []).append((event.get("global_step"), figures))
            self._redraw()
        elif kind == "finished" and event.get("nonfinite"):
            self.nonfinite = event["nonfinite"]
            self._redraw()

    def show_report(self, report) -> None:
        """A stored run's ``HealthReport`` (None: the run recorded no health)."""
        self.series, self.nonfinite = {}, None
        if report is not None:
            for node, samples in report.nodes.items():
                self.series[node] = [(s["step"], s) for s in samples]
            self.nonfinite = report.nonfinite
        self._set_findings(report)
        self._redraw()

    # --- output -------------------------------------------------------------------------------
    @property
    def chosen(self) -> str:
        return self.figure.currentData()

    def _set_findings(self, report) -> None:
        self.findings.clear()
        if report is None:
            self.findings.addItem("Findings are written when a run with health figures ends.")
        elif not report.findings:
            self.findings.addItem("No findings: the figures look healthy.")
        for finding in report.findings if report is not None else []:
            self.findings.addItem(f"• {finding.message}")

    def _redraw(self) -> None:
        figure = self.chosen
        item = self.plot.getPlotItem()
        item.clear()
        self.legend.clear()
        logarithmic = figure in LOGARITHMIC
        item.setLogMode(x=False, y=logarithmic)
        item.setTitle(TITLES[figure] if self.series else EMPTY, size="9pt")
        drawn = 0
        for node, samples in self.series.items():
            points = [
                (step, figures.get(figure))
                for step, figures in samples
                if _drawable(figures.get(figure), logarithmic) and step is not None
            ]
            if not points:
                continue
            colour = RUN_COLOURS[drawn % len(RUN_COLOURS)]
            item.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                name=node,
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=4,
                symbolBrush=colour,
                symbolPen=None,
            )
            drawn += 1
        if self.nonfinite:
            self.diverged.setText(nonfinite_sentence(self.nonfinite).capitalize())
            self.diverged.show()
        else:
            self.diverged.hide()
        self._push_overlay()

    def latest(self) -> dict[str, dict]:
        """Each node's most recent figures (the values the canvas is coloured by)."""
        out = {}
        for node, samples in self.series.items():
            values: dict = {}
            for _step, figures in samples:
                values.update({k: v for k, v in figures.items() if v is not None})
            out[node] = values
        return out

    def _push_overlay(self) -> None:
        if self.overlay is None:
            return
        self.overlay.set_figures(self.latest())
        self.overlay.set_figure(self.chosen if self.colour_nodes.isChecked() else None)
        self.overlay.set_diverged(self.nonfinite["node"] if self.nonfinite else None)


def _drawable(value, logarithmic: bool) -> bool:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    return value > 0 if logarithmic else True
