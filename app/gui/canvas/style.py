"""The canvas look: colours, fonts and node geometry, derived from the application palette and font.

Everything is computed from ``QPalette`` and the application font (in points), so the canvas follows
light and dark themes and scales on HiDPI screens. Items read the ``Theme`` from their scene; the
scene rebuilds it when the palette changes.
"""

from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QPalette
from PySide6.QtWidgets import QApplication

# One accent per catalog family; tuned to read on both light and dark node bodies.
CATEGORY_COLORS = {
    "inputs": "#43a047",
    "preprocessing": "#00897b",
    "core": "#1e88e5",
    "convolution": "#8e24aa",
    "pooling": "#3949ab",
    "normalization": "#fb8c00",
    "reshaping": "#8d6e63",
    "recurrent": "#d81b60",
    "attention": "#f4511e",
    "merging": "#00acc1",
    "activation": "#7cb342",
}
UNKNOWN_COLOR = "#9e9e9e"

NODE_WIDTH = 150.0  # scene units; the layout's 240-unit layer gap leaves room for edge labels
CORNER = 6.0
PORT_RADIUS = 5.0
PORT_HIT_RADIUS = 10.0  # generous hit area: ports are small targets at low zoom
BADGE_RADIUS = 7.0


def format_params(count) -> str:
    if count is None:
        return ""
    return "1 param" if count == 1 else f"{count:,} params"


def blend(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` towards ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        1.0,
    )


def _scaled(font: QFont, factor: float, bold: bool = False) -> QFont:
    out = QFont(font)
    out.setPointSizeF(max(6.0, font.pointSizeF() * factor))
    out.setBold(bold)
    return out


class Theme:
    """Colours, fonts and sizes for one palette. Cheap to build; rebuilt on palette changes."""

    def __init__(self, palette: QPalette, font: QFont):
        window = palette.color(QPalette.ColorRole.Window)
        text = palette.color(QPalette.ColorRole.WindowText)
        base = palette.color(QPalette.ColorRole.Base)
        self.dark = window.lightness() < 128
        self.background = window.darker(104) if not self.dark else window.darker(115)
        self.grid_minor = blend(self.background, text, 0.03)
        self.grid_major = blend(self.background, text, 0.06)
        self.node_fill = base if not self.dark else blend(window, text, 0.08)
        self.node_border = blend(self.node_fill, text, 0.22)
        self.text = text
        self.dim_text = blend(text, self.node_fill, 0.42)
        self.highlight = palette.color(QPalette.ColorRole.Highlight)
        self.edge = blend(self.background, text, 0.45)
        self.ok = QColor("#66bb6a" if self.dark else "#2e7d32")
        self.error = QColor("#ef5350" if self.dark else "#d32f2f")
        # Export refusals are warnings (the graph still trains): amber, with text that reads on it.
        self.warning = QColor("#ffb74d" if self.dark else "#f5a623")
        self.warning_text = QColor("#2b1d00")
        self.shadow = QColor(0, 0, 0, 90 if self.dark else 26)
        self.hint_fill = blend(window, text, 0.88)
        self.hint_text = window

        self.title_font = _scaled(font, 1.0, bold=True)
        self.body_font = _scaled(font, 0.95)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(6.0, font.pointSizeF() * 0.88))
        self.mono_font = mono
        self.small_font = _scaled(font, 0.82)
        self.small_mono_font = QFont(mono)
        self.small_mono_font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))

        self.title_metrics = QFontMetricsF(self.title_font)
        self.body_metrics = QFontMetricsF(self.body_font)
        self.mono_metrics = QFontMetricsF(self.mono_font)
        self.small_metrics = QFontMetricsF(self.small_font)
        self.small_mono_metrics = QFontMetricsF(self.small_mono_font)

        # Geometry in scene units, from font metrics so larger fonts get taller nodes.
        self.padding = 8.0
        self.header_height = self.title_metrics.height() + 10.0
        self.line_height = max(self.body_metrics.height(), self.mono_metrics.height()) + 2.0
        self.body_height = 3 * self.line_height + 2 * 4.0  # name, shape, parameter count
        self.port_row_height = max(self.small_metrics.height() + 4.0, 16.0)

    def frozen_fill(self, color: QColor) -> QColor:
        """A frozen node's colours: most of the way to the canvas, without their hue."""
        grey = QColor.fromHslF(0.0, 0.0, color.lightnessF())
        return blend(blend(color, grey, 0.7), self.background, 0.35)

    def accent(self, category: str) -> QColor:
        return QColor(CATEGORY_COLORS.get(category, UNKNOWN_COLOR))

    def header_fill(self, category: str) -> QColor:
        return blend(self.node_fill, self.accent(category), 0.28 if self.dark else 0.16)

    @classmethod
    def from_application(cls) -> "Theme":
        return cls(QApplication.palette(), QApplication.font())
