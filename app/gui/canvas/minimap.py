"""The minimap: a small overview in the view's corner for graphs larger than the viewport.

It draws every node as a tinted block and the visible area as a frame; clicking or dragging in it
centres the view there. It appears only while part of the graph is out of view.
"""

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

MINIMAP_SIZE = (200, 130)
MARGIN = 12
BLOCKS_RESOLUTION = 2  # the cached node blocks are drawn at twice the minimap's size


class Minimap(QWidget):
    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.setFixedSize(*MINIMAP_SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click to move there")
        self._world = QRectF()  # scene rect shown (graph bounds plus the visible area)
        self._dragging = False  # the world stays put while dragging, or the map would slide away
        self._blocks = None  # the node blocks pre-rendered: repainting 1000 rects per frame is slow
        self._blocks_key = None
        self._blocks_rect = QRectF()
        self.hide()

    def sync(self):
        """Re-place and show or hide; called when the graph or the visible area changes."""
        scene = self.view.graph_scene
        nodes = scene.nodes_rect()
        visible = self.view.visible_scene_rect()
        wanted = nodes is not None and not visible.contains(nodes)
        self.setVisible(wanted)
        if not wanted or self._dragging:
            self.update()
            return
        self._world = nodes.united(visible).adjusted(-40, -40, 40, 40)
        parent = self.view.viewport().geometry()
        self.move(parent.right() - self.width() - MARGIN, parent.bottom() - self.height() - MARGIN)
        self.update()

    def _scale(self):
        """(factor, offset) mapping scene coordinates into this widget, aspect ratio kept."""
        w, h = self.width() - 8, self.height() - 8
        world = self._world
        factor = min(w / max(world.width(), 1.0), h / max(world.height(), 1.0))
        ox = 4 + (w - world.width() * factor) / 2 - world.left() * factor
        oy = 4 + (h - world.height() * factor) / 2 - world.top() * factor
        return factor, QPointF(ox, oy)

    def paintEvent(self, event):
        theme = self.view.graph_scene.theme
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        frame = QColor(theme.node_fill)
        frame.setAlpha(225)
        painter.setPen(QPen(theme.node_border, 1.0))
        painter.setBrush(frame)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        if self._world.isEmpty():
            return
        factor, offset = self._scale()
        blocks, source = self._node_blocks(factor, offset)
        if blocks is not None:
            target = QRectF(
                source.left() * factor + offset.x(),
                source.top() * factor + offset.y(),
                source.width() * factor,
                source.height() * factor,
            )
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawPixmap(target, blocks, QRectF(blocks.rect()))
        visible = self.view.visible_scene_rect()
        shown = QRectF(
            visible.left() * factor + offset.x(),
            visible.top() * factor + offset.y(),
            visible.width() * factor,
            visible.height() * factor,
        )
        painter.setPen(QPen(theme.highlight, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(shown)

    def _node_blocks(self, factor, offset):
        """The node blocks, drawn once per layout into a pixmap of the nodes' rect and scaled into
        place: zooming and panning change ``factor``/``offset`` every step, and redrawing 3000
        blocks per step cost more than the canvas itself (bench/big_graphs.py)."""
        scene = self.view.graph_scene
        ratio = self.devicePixelRatioF()
        key = (scene.layout_version, id(scene.theme), ratio)
        # nodes_rect() only when the layout changed: mid-drag it is a walk over every card.
        nodes = scene.nodes_rect() if key != self._blocks_key else None
        if nodes is not None:
            scale = BLOCKS_RESOLUTION * max(self.width(), self.height()) * ratio
            scale /= max(nodes.width(), nodes.height(), 1.0)
            size = QSize(max(int(nodes.width() * scale), 1), max(int(nodes.height() * scale), 1))
            pixmap = QPixmap(size)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            least = 2.0 * ratio / BLOCKS_RESOLUTION  # at least ~2 px once scaled down
            for item in scene.nodes.values():
                if not item.isVisible():
                    continue  # inside a collapsed block
                pos = item.pos()
                rect = QRectF(
                    (pos.x() - nodes.left()) * scale,
                    (pos.y() - nodes.top()) * scale,
                    max(item.width * scale, least),
                    max(item.height * scale, least),
                )
                painter.fillRect(rect, scene.theme.accent(item.category))
            painter.end()
            self._blocks, self._blocks_key, self._blocks_rect = pixmap, key, QRectF(nodes)
        return self._blocks, self._blocks_rect

    def _navigate(self, point):
        factor, offset = self._scale()
        if factor <= 0:
            return
        target = QPointF((point.x() - offset.x()) / factor, (point.y() - offset.y()) / factor)
        self.view.centerOn(target)

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self._navigate(event.position())
            event.accept()

    def mouseReleaseEvent(self, event):
        self._dragging = False
        self.sync()

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._navigate(event.position())
            event.accept()
