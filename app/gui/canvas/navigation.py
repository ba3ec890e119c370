"""Moving around the canvas: zoom around the cursor, panning, fitting, and the background grid.

``NavigationMixin`` is mixed into GraphView ahead of QGraphicsView; its event handlers take the
gestures they own (wheel, middle-button drag, space+left drag) and pass everything else on. It
expects the view to have ``graph_scene`` and ``minimap`` attributes.
"""

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter, QTransform

ZOOM_STEP = 1.2
MIN_ZOOM, MAX_ZOOM = 0.06, 3.0
MAX_FIT_ZOOM = 1.25  # fitting a tiny graph should not blow it up to poster size
FIT_MARGIN = 60.0
# Below about this zoom node text is too small to read (and below 0.55 cards drop it), so Fit
# stops here and shows a long graph from its inputs rather than unreadable slivers of the whole.
READABLE_ZOOM = 0.8
GRID = 24.0  # scene units between minor grid lines; every 5th is a major line
GRID_MIN_ZOOM = 0.3  # below this a grid is a few pixels apart: noise, and slow


class NavigationMixin:
    _pan_from = None  # viewport position of the last pan step while panning
    _space_held = False

    # --- zoom ----------------------------------------------------------------------------------
    @property
    def zoom(self):
        return self.transform().m11()

    def visible_scene_rect(self):
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def fit(self):
        """Show the whole graph, but never smaller than readable: a graph that does not fit at
        READABLE_ZOOM is shown at that zoom from its start (its inputs) instead."""
        rect = self.graph_scene.nodes_rect()
        if rect is None:
            self.setTransform(QTransform())
            self.centerOn(0, 0)
            self.minimap.sync()
            return
        margin = FIT_MARGIN
        self.fitInView(
            rect.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio
        )
        zoom = min(max(self.zoom, READABLE_ZOOM), MAX_FIT_ZOOM)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        self.centerOn(self._start_point(rect, zoom))
        self.minimap.sync()

    def _start_point(self, rect, zoom):
        """The centre that shows ``rect`` whole along each axis where it fits, and otherwise
        the end of that axis where the inputs sit."""
        inputs = self._inputs_rect() or rect
        half_w = self.viewport().width() / zoom / 2
        half_h = self.viewport().height() / zoom / 2
        point = rect.center()
        if rect.width() + 2 * FIT_MARGIN > 2 * half_w:
            low, high = rect.left() - FIT_MARGIN + half_w, rect.right() + FIT_MARGIN - half_w
            point.setX(min(max(inputs.center().x(), low), high))
        if rect.height() + 2 * FIT_MARGIN > 2 * half_h:
            low, high = rect.top() - FIT_MARGIN + half_h, rect.bottom() + FIT_MARGIN - half_h
            point.setY(min(max(inputs.center().y(), low), high))
        return point

    def _inputs_rect(self):
        graph = self.graph_scene.document.graph.nx_graph
        rect = None
        for node_id, item in self.graph_scene.nodes.items():
            if item.isVisible() and graph.in_degree(node_id) == 0:
                r = item.sceneBoundingRect()
                rect = r if rect is None else rect.united(r)
        return rect

    def show_start(self):
        """The first view of a graph: fitted, as Fit shows it."""
        self.fit()

    def zoom_in(self):
        self._zoom_by(ZOOM_STEP, self.viewport().rect().center())

    def zoom_out(self):
        self._zoom_by(1 / ZOOM_STEP, self.viewport().rect().center())

    def _zoom_by(self, factor, view_point):
        """Scale by ``factor`` keeping the scene point under ``view_point`` where it is."""
        target = min(max(self.zoom * factor, MIN_ZOOM), MAX_ZOOM)
        if abs(target - self.zoom) < 1e-9:
            return
        anchor = self.mapToScene(view_point)
        self.setTransform(QTransform.fromScale(target, target))
        moved = self.mapFromScene(anchor) - view_point
        self._scroll_by(moved.x(), moved.y())
        self.minimap.sync()

    def _scroll_by(self, dx, dy):
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def wheelEvent(self, event):
        delta = event.angleDelta().y() or event.angleDelta().x()
        if not delta:
            event.ignore()
            return
        self._zoom_by(ZOOM_STEP ** (delta / 120.0), event.position().toPoint())
        event.accept()

    def scrollContentsBy(self, dx, dy):
        super().scrollContentsBy(dx, dy)
        self.minimap.sync()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.minimap.sync()

    # --- panning -------------------------------------------------------------------------------
    def mousePressEvent(self, event):
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space_held
        ):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self._scroll_by(-delta.x(), -delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._pan_from is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_from = None
            if self._space_held:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            if self._pan_from is None:
                self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event):
        self._space_held = False  # the key release may go to another window
        super().focusOutEvent(event)

    # --- background ----------------------------------------------------------------------------
    def drawBackground(self, painter, rect):
        theme = self.graph_scene.theme
        painter.fillRect(rect, theme.background)
        if self.zoom < GRID_MIN_ZOOM:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        first_x, first_y = int(rect.left() // GRID), int(rect.top() // GRID)
        last_x, last_y = int(rect.right() // GRID) + 1, int(rect.bottom() // GRID) + 1
        for color, major in ((theme.grid_minor, False), (theme.grid_major, True)):
            painter.setPen(color)
            for i in range(first_x, last_x + 1):
                if (i % 5 == 0) == major:
                    x = i * GRID
                    painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            for j in range(first_y, last_y + 1):
                if (j % 5 == 0) == major:
                    y = j * GRID
                    painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
