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
# Below about this zoom the node cards drop their text (level of detail), so the first view of a
# long graph starts here at its inputs rather than showing unreadable slivers of the whole.
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
        rect = self.graph_scene.nodes_rect()
        if rect is None:
            self.setTransform(QTransform())
            self.centerOn(0, 0)
        else:
            margin = FIT_MARGIN
            self.fitInView(
                rect.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio
            )
            zoom = min(max(self.zoom, MIN_ZOOM), MAX_FIT_ZOOM)
            self.setTransform(QTransform.fromScale(zoom, zoom))
            self.centerOn(rect.center())
        self.minimap.sync()

    def show_start(self):
        """The first view of a graph: all of it when that stays readable, else its start (inputs)."""
        self.fit()
        rect = self.graph_scene.nodes_rect()
        if rect is None or self.zoom >= READABLE_ZOOM:
            return
        self.setTransform(QTransform.fromScale(READABLE_ZOOM, READABLE_ZOOM))
        half_width = self.viewport().width() / READABLE_ZOOM / 2
        self.centerOn(rect.left() - FIT_MARGIN + half_width, rect.center().y())
        self.minimap.sync()

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
