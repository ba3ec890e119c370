"""What an empty canvas says: drag a layer here from the palette, or start from a template."""

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel

TEMPLATE_LINK = "template"
HINT_HTML = (
    "<p style='font-size:large'><b>Your graph is empty</b></p>"
    "<p>Drag a layer here from the <b>Layers</b> palette on the left,<br>"
    "double-click the canvas to search for one,<br>"
    f"or <a href='{TEMPLATE_LINK}'>start from a template…</a></p>"
)


class EmptyHint(QLabel):
    """A centred note over the view's viewport, shown only while the graph has no nodes."""

    template_requested = Signal()

    def __init__(self, view):
        super().__init__(view)
        self._view = view
        self.setObjectName("emptyCanvasHint")
        self.setText(HINT_HTML)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setForegroundRole(self.foregroundRole())
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.linkActivated.connect(self._on_link)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        self._filter = _ResizeWatch(self.sync, view)
        view.installEventFilter(self._filter)
        view.graph_scene.refreshed.connect(self.sync)
        self.sync()

    def _on_link(self, link):
        if link == TEMPLATE_LINK:
            self.template_requested.emit()

    def sync(self):
        empty = not self._view.graph_scene.nodes
        self.setVisible(empty)
        if empty:
            self.adjustSize()
            area = self._view.viewport().geometry()
            self.move(area.center().x() - self.width() // 2, area.center().y() - self.height() // 2)
            self.raise_()


class _ResizeWatch(QObject):
    def __init__(self, callback, parent):
        super().__init__(parent)
        self._callback = callback

    def eventFilter(self, watched, event):
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._callback()
        return False
