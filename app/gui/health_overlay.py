"""The canvas's health colouring: one ``HealthOverlay`` per document, set by the Health panel and
observed by the canvas scene (which only reads it).

The panel hands it each node's latest figures (by node name, as ``health`` reports them) and the
figure the user chose; the overlay turns them into a colour and a short label per node. The node
where a diverged run first became non-finite is marked whether or not a figure is chosen.

Colours: fractions (dead, saturated) on a fixed green-to-red scale (0 is good, 1 is bad); the
other figures, whose good range depends on the model, on a blue-to-orange scale over the nodes'
own range, logarithmic for the norms and ratios (they span orders of magnitude).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

FRACTIONS = ("dead_fraction", "saturated_fraction")
LOGARITHMIC = ("grad_norm", "weight_norm", "update_ratio")
GOOD, BAD = QColor("#43a047"), QColor("#e53935")
LOW, HIGH = QColor("#1e88e5"), QColor("#fb8c00")


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    t = min(1.0, max(0.0, t))
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


def label_of(figure: str, value: float) -> str:
    if figure in FRACTIONS:
        return f"{value * 100:.0f} %"
    return f"{value:.2g}"


@dataclass(frozen=True)
class Mark:
    """What a node card shows: a tint and its value (None: no figure), and whether it is where
    the run became non-finite."""

    color: QColor | None = None
    label: str = ""
    diverged: bool = False


NO_MARK = Mark()


class HealthOverlay(QObject):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.figure: str | None = None  # None: no colouring
        self.latest: dict[str, dict[str, float]] = {}  # node name -> figure -> latest value
        self.diverged: str | None = None  # the node named by a diverged run's replay

    def set_figures(self, latest: dict[str, dict[str, float]]) -> None:
        self.latest = {node: dict(values) for node, values in latest.items()}
        self.changed.emit()

    def set_figure(self, figure: str | None) -> None:
        if figure != self.figure:
            self.figure = figure
            self.changed.emit()

    def set_diverged(self, node: str | None) -> None:
        if node != self.diverged:
            self.diverged = node
            self.changed.emit()

    def clear(self) -> None:
        self.latest, self.diverged = {}, None
        self.changed.emit()

    def _scale(self, value: float) -> float:
        return math.log10(value) if self.figure in LOGARITHMIC else value

    def marks(self) -> dict[str, Mark]:
        """Node name -> its mark, for every node with something to show."""
        figure = self.figure
        values: dict[str, float] = {}
        if figure is not None:
            for node, figures in self.latest.items():
                value = figures.get(figure)
                if value is None or not math.isfinite(value):
                    continue
                if figure in LOGARITHMIC and value <= 0:
                    continue
                values[node] = value
        out: dict[str, Mark] = {}
        scaled = {node: self._scale(v) for node, v in values.items()}
        low = min(scaled.values(), default=0.0)
        high = max(scaled.values(), default=1.0)
        for node, value in values.items():
            if figure in FRACTIONS:
                color = _mix(GOOD, BAD, value)
            else:
                color = _mix(LOW, HIGH, (scaled[node] - low) / (high - low) if high > low else 0.5)
            out[node] = Mark(color, label_of(figure or "", value))
        if self.diverged is not None:
            found = out.get(self.diverged, NO_MARK)
            label = f"NaN · {found.label}" if found.label else "NaN"
            out[self.diverged] = Mark(found.color, label, True)
        return out


def health_overlay(document) -> HealthOverlay:
    """The document's one HealthOverlay (created on first use, owned by the document)."""
    found = document.findChild(HealthOverlay)
    return found if found is not None else HealthOverlay(document)
