"""The export badge: a small amber tag on a node card naming the targets that refuse the node.

It hangs on the card's bottom edge, right-aligned (so it covers no text of the card), and reads
like "⊘ TFL JS"; its tooltip spells out each target and the reason. The scene hands it the
node's refusals (``app.gui.export_compat``); it never computes them.
"""

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsItem

from layerloom.app.gui.export_compat import short_name

MAX_LETTERS_WIDTH = 120.0  # scene units (a card is 150); wider: the tag shows a count instead
PAD_X = 4.0
PAD_Y = 1.0


class ExportBadgeItem(QGraphicsItem):
    def __init__(self, parent):
        super().__init__(parent)
        self.keys: tuple[str, ...] = ()
        self.text = ""
        self._rect = QRectF()
        self.setVisible(False)
        self.setAcceptHoverEvents(True)  # its own tooltip, not the card's

    def set_refusals(self, refusals, theme) -> bool:
        """Show ``refusals`` (Refusal objects of this node); returns whether anything changed."""
        keys = tuple(dict.fromkeys(r.key for r in refusals))
        tooltip = self._tooltip(refusals)
        if keys == self.keys and tooltip == self.toolTip():
            return False
        self.keys = keys
        self.setToolTip(tooltip)
        self.setVisible(bool(keys))
        self.relayout(theme)
        return True

    @staticmethod
    def _tooltip(refusals) -> str:
        if not refusals:
            return ""
        lines = ["Cannot be exported to:"]
        lines += [f"• {r.message}" for r in refusals]
        return "\n".join(lines)

    def relayout(self, theme) -> None:
        """Size the tag for its text in the theme's small font (right edge at x = 0)."""
        metrics = theme.small_metrics
        letters = "⊘ " + " ".join(short_name(k) for k in self.keys)
        if metrics.horizontalAdvance(letters) > MAX_LETTERS_WIDTH:
            letters = f"⊘ {len(self.keys)} targets"
        self.text = letters
        width = metrics.horizontalAdvance(letters) + 2 * PAD_X
        height = metrics.height() + 2 * PAD_Y
        self.prepareGeometryChange()
        self._rect = QRectF(-width, -height / 2, width, height)
        self.update()

    @property
    def width(self) -> float:
        return self._rect.width() if self.isVisible() else 0.0

    def boundingRect(self):
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter, option, widget=None):
        theme = self.scene().theme
        radius = self._rect.height() / 2
        painter.setPen(QPen(theme.warning.darker(130), 0.8))
        painter.setBrush(theme.warning)
        painter.drawRoundedRect(self._rect, radius, radius)
        painter.setPen(theme.warning_text)
        painter.setFont(theme.small_font)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)
