"""Edge items: the bezier curve for one graph edge with its tensor-shape label, the rubber wire
shown while dragging a new connection, and the floating hint that says whether a drop is allowed.
"""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem

# Above cards (NODE_Z 0) so a skip edge passing a card stays visible; below collapsed blocks and
# the selected card.
EDGE_Z = 0.25
PORT_CLEARANCE = 12.0  # scene units around each end that belong to the port, not the edge
DETOUR_GAP = 36.0  # scene units between a detouring edge and the cards it goes around
WIRE_Z = 5.0
HINT_Z = 10.0
EDGE_WIDTH = 1.6
HINT_MAX_WIDTH = 360.0  # device pixels; long shape errors wrap instead of crossing the view
HINT_FLAGS = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter) | int(
    Qt.TextFlag.TextWordWrap
)


def bezier(p0, p1):
    """A horizontal S-curve from an output (p0) to an input (p1), also sensible when p1 is behind."""
    dx = max(abs(p1.x() - p0.x()) * 0.5, 40.0)
    path = QPainterPath(p0)
    path.cubicTo(QPointF(p0.x() + dx, p0.y()), QPointF(p1.x() - dx, p1.y()), p1)
    return path


def detour(p0, p1, blockers):
    """A curve from p0 to p1 around every rect in ``blockers`` (cards in the way): below them
    when the edge runs left to right, right of them when it runs down (top-to-bottom layouts)."""
    if abs(p1.x() - p0.x()) >= abs(p1.y() - p0.y()):
        side = max(r.bottom() for r in blockers) + DETOUR_GAP
        left = min(r.left() for r in blockers) - DETOUR_GAP / 2
        right = max(r.right() for r in blockers) + DETOUR_GAP / 2
        bend = max((left - p0.x()) * 0.5, 20.0)
        path = QPainterPath(p0)
        path.cubicTo(
            QPointF(p0.x() + bend, p0.y()), QPointF(left - bend, side), QPointF(left, side)
        )
        path.lineTo(QPointF(right, side))
        bend = max((p1.x() - right) * 0.5, 20.0)
        path.cubicTo(QPointF(right + bend, side), QPointF(p1.x() - bend, p1.y()), p1)
        return path
    side = max(r.right() for r in blockers) + DETOUR_GAP
    top = min(r.top() for r in blockers) - DETOUR_GAP / 2
    bottom = max(r.bottom() for r in blockers) + DETOUR_GAP / 2
    first, last = (top, bottom) if p1.y() >= p0.y() else (bottom, top)
    path = QPainterPath(p0)
    path.cubicTo(QPointF(side, p0.y()), QPointF(side, p0.y()), QPointF(side, first))
    path.lineTo(QPointF(side, last))
    # Across the gap above the destination card to its left side, then into its input port,
    # rather than through the card.
    left = p1.x() - DETOUR_GAP
    path.cubicTo(QPointF(side, last), QPointF(side, last), QPointF(side - DETOUR_GAP, last))
    path.lineTo(QPointF(left + DETOUR_GAP / 2, last))
    path.cubicTo(QPointF(left, last), QPointF(left, p1.y()), p1)
    return path


class EdgeItem(QGraphicsItem):
    """One graph edge, drawn from the source's output port to the destination's input port."""

    def __init__(self, edge, src_item, dst_item, theme):
        super().__init__()
        self.edge = edge
        self.src_item = src_item
        self.dst_item = dst_item
        self.src_end = None  # a collapsed block's port standing in for src_item (block_item.py)
        self.dst_end = None
        self.label = ""
        self._theme = theme
        self._path = QPainterPath()
        self._shape = None
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setZValue(EDGE_Z)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(False)
        self.update_path()

    @property
    def key(self):
        return (self.edge.src, self.edge.dst, self.edge.port)

    def set_theme(self, theme):
        self._theme = theme
        self._relabel()

    def set_label(self, text):
        if text != self.label:
            self.label = text
            self._relabel()

    def update_path(self):
        self.prepareGeometryChange()
        p0 = (self.src_end or self.src_item).output_anchor()
        p1 = (self.dst_end or self.dst_item).input_anchor(self.edge.port)
        self._path = bezier(p0, p1)
        blockers = self._blockers()
        if blockers:
            self._path = detour(p0, p1, blockers)
        self._shape = None
        self._place_label()

    def _blockers(self):
        """Visible cards other than its own ends that the plain curve runs through."""
        scene = self.scene()
        if scene is None:
            return []
        ends = (self.src_item, self.dst_item)
        # A rect look-up first; the exact curve test only for the few cards in its bounding
        # box: most edges join neighbours and meet no other card.
        return [
            rect
            for item, rect in scene.cards_in(self._path.boundingRect()).items()
            if item not in ends and self._path.intersects(rect)
        ]

    def _relabel(self):
        self.prepareGeometryChange()
        self._place_label()
        self.update()

    def _place_label(self):
        rect = self._path.boundingRect()
        if self.label:
            metrics = self._theme.small_mono_metrics
            w = metrics.horizontalAdvance(self.label) + 8.0
            h = metrics.height() + 2.0
            mid = self._path.pointAtPercent(0.5)
            # Above the curve rather than on it, so short edges still show their line.
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - 2.0, w, h)
            rect = rect.united(self._label_rect)
        else:
            self._label_rect = QRectF()
        self._bounds = rect.adjusted(-3.0, -3.0, 3.0, 3.0)

    def boundingRect(self):
        return self._bounds

    def shape(self):
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10.0)  # easy to click, as thin lines are hard to hit
            shape = stroker.createStroke(self._path)
            # Edges sit above cards, so leave the ports at both ends to the ports: a press there
            # drags a wire, as before.
            ports = QPainterPath()
            for end in (self._path.pointAtPercent(0.0), self._path.pointAtPercent(1.0)):
                ports.addEllipse(end, PORT_CLEARANCE, PORT_CLEARANCE)
            self._shape = shape.subtracted(ports)
        return self._shape

    def paint(self, painter, option, widget=None):
        theme = self._theme
        scene = self.scene()
        # Antialiased long beziers dominate paint time in big scenes: big scenes draw
        # them aliased; small ones keep smooth curves.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, scene.smooth_edges)
        color = theme.highlight if self.isSelected() else theme.edge
        width = EDGE_WIDTH * (1.6 if self.isSelected() else 1.0)
        painter.setPen(QPen(color, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if not self.label:
            return
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < 0.55:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(color if self.isSelected() else theme.grid_major, 1.0))
        painter.setBrush(theme.background)
        painter.drawRoundedRect(self._label_rect, 4.0, 4.0)
        painter.setPen(theme.dim_text if not self.isSelected() else theme.highlight)
        painter.setFont(theme.small_mono_font)
        painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


class WireItem(QGraphicsItem):
    """The dashed wire that follows the cursor while a connection is being dragged."""

    def __init__(self, theme):
        super().__init__()
        self._theme = theme
        self._path = QPainterPath()
        self.state = None
        self.setZValue(WIRE_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_ends(self, out_point, in_point, state):
        self.prepareGeometryChange()
        self._path = bezier(out_point, in_point)
        self.state = state
        self.update()

    def boundingRect(self):
        return self._path.boundingRect().adjusted(-4, -4, 4, 4)

    def paint(self, painter, option, widget=None):
        theme = self._theme
        color = {"ok": theme.ok, "refused": theme.error}.get(self.state, theme.highlight)
        pen = QPen(color, 2.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)


class HintItem(QGraphicsItem):
    """A floating label near the cursor: why a drop is refused, or what it will connect.

    It ignores the view's zoom so it stays readable when zoomed far out.
    """

    OFFSET = QPointF(16.0, 18.0)  # device pixels away from the cursor, out from under it

    def __init__(self, theme):
        super().__init__()
        self._theme = theme
        self.text = ""
        self.state = None
        self._rect = QRectF()
        self.setZValue(HINT_Z)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_text(self, text, state):
        if (text, state) == (self.text, self.state):
            return
        self.prepareGeometryChange()
        self.text, self.state = text, state
        metrics = self._theme.body_metrics
        room = QRectF(0.0, 0.0, HINT_MAX_WIDTH, 10_000.0)
        size = metrics.boundingRect(room, HINT_FLAGS, text).size()
        self._rect = QRectF(
            self.OFFSET.x(), self.OFFSET.y(), size.width() + 20.0, size.height() + 10.0
        )
        self.update()

    def boundingRect(self):
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter, option, widget=None):
        if not self.text:
            return
        theme = self._theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        edge = {"ok": theme.ok, "refused": theme.error}.get(self.state, theme.highlight)
        painter.setPen(QPen(edge, 1.5))
        painter.setBrush(theme.hint_fill)
        painter.drawRoundedRect(self._rect, 5.0, 5.0)
        painter.setPen(theme.hint_text)
        painter.setFont(theme.body_font)
        painter.drawText(self._rect.adjusted(10, 5, -10, -5), HINT_FLAGS, self.text)
