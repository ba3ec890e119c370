"""A node's output preview: a small panel hung under its card while the Look Inside panel shows
previews (``app.gui.previews.NodePreviews``).

It draws what ``inspect`` computed for the node on the chosen sample: a grid of feature maps, a
bar strip, a histogram or the head's top classes, and under it the output's statistics (min, max,
mean, std, the share of zeros and of non-finite values, the latter in red when any). The scene
hands each card its record (``show_previews``); the item never computes anything.
"""

import base64

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPen
from PySide6.QtWidgets import QGraphicsItem

GAP = 10.0  # below the card, clear of the export badge hung on its bottom edge
PICTURE_HEIGHT = 64.0
STAT_LINES = 3
PAD = 4.0


def _number(value) -> str:
    return "–" if value is None else f"{value:.3g}"


class PreviewItem(QGraphicsItem):
    def __init__(self, parent):
        super().__init__(parent)
        self.record: dict = {}
        self._image: QImage | None = None
        self._rect = QRectF()
        self.setZValue(-0.5)  # under edges drawn over the card's neighbours

    def set_record(self, record: dict, theme) -> None:
        if record is self.record:
            return
        self.record = record
        shown = record.get("preview") or {}
        self._image = None
        if shown.get("kind") == "maps":
            self._image = QImage.fromData(base64.b64decode(shown["png"]), "PNG")
        node = self.parentItem()
        lines = STAT_LINES * theme.small_metrics.height()
        self.prepareGeometryChange()
        self._rect = QRectF(0, 0, node.width, PICTURE_HEIGHT + lines + 3 * PAD)
        self.setPos(0.0, node.height + GAP)
        self.setToolTip(self._tooltip())
        self.update()

    def _tooltip(self) -> str:
        r = self.record
        lines = [f"{r.get('node', '')}: output {tuple(r.get('shape', []))}"]
        for key in ("min", "max", "mean", "std"):
            lines.append(f"{key}: {_number(r.get(key))}")
        lines.append(f"zeros: {r.get('zero_fraction', 0):.1%}")
        lines.append(f"non-finite: {r.get('nonfinite_fraction', 0):.1%}")
        shown = r.get("preview") or {}
        if shown.get("kind") == "maps" and shown.get("channels", 1) > shown.get("shown", 1):
            lines.append(f"first {shown['shown']} of {shown['channels']} maps shown")
        return "\n".join(lines)

    def boundingRect(self):
        return self._rect.adjusted(-1, -1, 1, 1)

    # --- painting ------------------------------------------------------------------------------
    def paint(self, painter, option, widget=None):
        theme = self.scene().theme
        rect = self._rect
        painter.setPen(QPen(theme.node_border, 0.8))
        painter.setBrush(theme.node_fill)
        painter.drawRoundedRect(rect, 4.0, 4.0)
        picture = QRectF(PAD, PAD, rect.width() - 2 * PAD, PICTURE_HEIGHT)
        shown = self.record.get("preview") or {}
        draw = PAINTERS.get(shown.get("kind"))
        if draw is not None:
            draw(self, painter, picture, shown, theme)
        self._paint_statistics(painter, picture.bottom() + PAD, theme)

    def _paint_statistics(self, painter, top, theme):
        r = self.record
        height = theme.small_metrics.height()
        width = self._rect.width() - 2 * PAD
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.setFont(theme.small_font)
        painter.setPen(theme.dim_text)
        rows = [
            (f"min {_number(r.get('min'))}", f"max {_number(r.get('max'))}"),
            (f"mean {_number(r.get('mean'))}", f"std {_number(r.get('std'))}"),
            (f"zeros {r.get('zero_fraction', 0):.0%}", ""),
        ]
        for index, (first, second) in enumerate(rows):
            line = QRectF(PAD, top + index * height, width, height)
            painter.drawText(line, left, first)
            painter.drawText(line, right, second)
        bad = r.get("nonfinite_fraction", 0)
        painter.setPen(theme.error if bad else theme.dim_text)
        line = QRectF(PAD, top + 2 * height, width, height)
        painter.drawText(line, right, f"non-finite {bad:.0%}")

    def _paint_maps(self, painter, area, shown, theme):
        if self._image is None or self._image.isNull():
            return
        size = self._image.size().scaled(
            int(area.width()), int(area.height()), Qt.AspectRatioMode.KeepAspectRatio
        )
        target = QRectF(
            area.center().x() - size.width() / 2,
            area.center().y() - size.height() / 2,
            size.width(),
            size.height(),
        )
        painter.drawImage(target, self._image)

    def _paint_bars(self, painter, area, values, theme, signed=True):
        if not values:
            return
        low, high = min(0.0, *values), max(0.0, *values)
        span = (high - low) or 1.0
        zero = area.bottom() - (0.0 - low) / span * area.height()
        step = area.width() / len(values)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.highlight)
        for index, value in enumerate(values):
            top = area.bottom() - (value - low) / span * area.height()
            x = area.left() + index * step
            painter.drawRect(QRectF(x, min(top, zero), max(step - 1.0, 1.0), abs(zero - top)))
        painter.setPen(QPen(theme.node_border, 0.6))
        painter.drawLine(QPointF(area.left(), zero), QPointF(area.right(), zero))

    def _paint_vector(self, painter, area, shown, theme):
        self._paint_bars(painter, area, shown["values"], theme)

    def _paint_histogram(self, painter, area, shown, theme):
        self._paint_bars(painter, area, [float(c) for c in shown["counts"]], theme)
        low, high = shown["range"]
        painter.setFont(theme.small_font)
        painter.setPen(theme.dim_text)
        bottom = QRectF(area.left(), area.top(), area.width(), theme.small_metrics.height())
        painter.drawText(bottom, Qt.AlignmentFlag.AlignLeft, f"{low:.2g}")
        painter.drawText(bottom, Qt.AlignmentFlag.AlignRight, f"{high:.2g}")

    def _paint_topk(self, painter, area, shown, theme):
        items = shown["items"][: max(1, int(area.height() // theme.small_metrics.height()))]
        height = area.height() / max(len(items), 1)
        best = max((abs(v) for _, v in items), default=1.0) or 1.0
        painter.setFont(theme.small_font)
        for index, (label, value) in enumerate(items):
            row = QRectF(area.left(), area.top() + index * height, area.width(), height - 1)
            bar = QRectF(row.left(), row.top(), row.width() * abs(value) / best, row.height())
            painter.fillRect(bar, theme.highlight.lighter(160) if index else theme.highlight)
            painter.setPen(theme.text)
            text = theme.small_metrics.elidedText(
                f"{label}  {value:.3g}", Qt.TextElideMode.ElideMiddle, row.width() - 4
            )
            painter.drawText(row.adjusted(2, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)


PAINTERS = {
    "maps": PreviewItem._paint_maps,
    "bars": PreviewItem._paint_vector,
    "histogram": PreviewItem._paint_histogram,
    "topk": PreviewItem._paint_topk,
}


def show_previews(scene, previews) -> None:
    """Give every card of ``scene`` its preview from ``previews`` (hidden where it has none)."""
    for item in scene.nodes.values():
        record = previews.shown(item.name)
        child = next((c for c in item.childItems() if isinstance(c, PreviewItem)), None)
        if record is None:
            if child is not None:
                child.setVisible(False)
            continue
        if child is None:
            child = PreviewItem(item)
        child.set_record(record, scene.theme)
        child.setVisible(True)
