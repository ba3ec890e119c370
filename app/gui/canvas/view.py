"""GraphView: the canvas widget the main window embeds; its public methods are the canvas API.

It owns selection, keyboard shortcuts, palette drops, the Tab search popup, the clipboard and
auto-layout; zooming and panning come from ``NavigationMixin``. Every change to
the graph goes through ``document.push`` as one undoable edit.
"""

import json

from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication, QKeySequence, QPainter
from PySide6.QtWidgets import QGraphicsView

from layerloom.app.gui.canvas.blocks_view import TEMPLATE_PREFIX, BlocksMixin
from layerloom.app.gui.canvas.clipboard import (
    from_mime,
    paste_edit,
    put_on_clipboard,
    selection_payload,
)
from layerloom.app.gui.canvas.empty_hint import EmptyHint
from layerloom.app.gui.canvas.minimap import Minimap
from layerloom.app.gui.canvas.navigation import NavigationMixin
from layerloom.app.gui.canvas.scene import GraphScene
from layerloom.app.gui.canvas.search_popup import SearchPopup
from layerloom.app.gui.canvas.style import NODE_WIDTH, Theme
from layerloom.app.gui.previews import dropped_file, node_previews
from layerloom.nodes.edits import AddNode, Composite, Disconnect, Move, RemoveNodes
from layerloom.nodes.graph import Node, new_id
from layerloom.nodes.layout import ROW_GAP, layered_positions

NODE_MIME = "application/x-layerloom-node-type"
PASTE_OFFSET = 40.0


class GraphView(BlocksMixin, NavigationMixin, QGraphicsView):
    selection_changed = Signal(list)  # selected node ids
    message = Signal(str)  # a short note for the status bar (e.g. why a connection was refused)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.graph_scene = GraphScene(document, self)
        self.setScene(self.graph_scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.minimap = Minimap(self)
        self._search = None
        self._search_scene_pos = QPointF()
        self._batch_selection = False
        self._last_selection = []
        self._paste_key, self._paste_count = None, 0
        self._shown_once = False
        self.graph_scene.selectionChanged.connect(self._on_selection_changed)
        self.graph_scene.message.connect(self.message.emit)
        self.graph_scene.refreshed.connect(self.minimap.sync)
        self.empty_hint = EmptyHint(self)

    # --- selection -----------------------------------------------------------------------------
    def selected_node_ids(self):
        return self.graph_scene.selected_node_ids()

    def select_nodes(self, ids):
        self._batch_selection = True  # one selection_changed for the lot, not one per item
        try:
            self.graph_scene.clearSelection()
            for node_id in ids:
                item = self.graph_scene.nodes.get(node_id)
                if item is not None:
                    item.setSelected(True)
        finally:
            self._batch_selection = False
        self._on_selection_changed()

    def select_all(self):
        self.select_nodes(list(self.graph_scene.nodes))

    def _on_selection_changed(self):
        if self._batch_selection:
            return
        ids = self.selected_node_ids()
        if ids != self._last_selection:
            self._last_selection = ids
            self.graph_scene.restack(ids)
            self.selection_changed.emit(ids)

    # --- navigation ----------------------------------------------------------------------------
    def center_on(self, node_id):
        item = self.graph_scene.nodes.get(node_id)
        if item is None:
            return
        self.select_nodes([node_id])
        self.centerOn(item)
        self.minimap.sync()

    def showEvent(self, event):
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.show_start()

    # --- mouse ---------------------------------------------------------------------------------
    def mouseDoubleClickEvent(self, event):
        if (
            event.button() == Qt.MouseButton.LeftButton
            and self.itemAt(event.position().toPoint()) is None
        ):
            self.open_search(event.position().toPoint())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # --- keyboard ------------------------------------------------------------------------------
    def event(self, event):
        # Tab would move focus to the next widget before keyPressEvent ever sees it.
        if (
            event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Tab
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.open_search()
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        key = event.key()
        if key == Qt.Key.Key_Escape:
            if self.graph_scene.wiring.active:
                self.graph_scene.wiring.cancel()
            else:
                self.select_nodes([])
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
        elif event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
        elif event.matches(QKeySequence.StandardKey.Cut):
            self.cut()
        elif event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
        elif event.matches(QKeySequence.StandardKey.SelectAll):
            self.select_all()
        elif key == Qt.Key.Key_D and event.modifiers() == Qt.KeyboardModifier.ControlModifier:
            self.duplicate()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # --- adding nodes --------------------------------------------------------------------------
    def add_node_at(self, type_id, scene_pos=None):
        """Add a node of ``type_id`` centred at ``scene_pos`` (default: the view centre).

        Returns the new node id, or None when the type is unknown.
        """
        if type_id.startswith(TEMPLATE_PREFIX):  # a user template from the palette
            centre = self.mapToScene(self.viewport().rect().center())
            scene_pos = QPointF(*scene_pos) if isinstance(scene_pos, tuple) else scene_pos
            return self.insert_template(type_id.removeprefix(TEMPLATE_PREFIX), scene_pos or centre)
        spec = self.document.registry.get(type_id)
        if spec is None:
            self.message.emit(f"Unknown layer type {type_id!r}")
            return None
        if scene_pos is None:
            scene_pos = self.mapToScene(self.viewport().rect().center())
        elif isinstance(scene_pos, tuple):
            scene_pos = QPointF(*scene_pos)
        theme = self.graph_scene.theme
        pos = (
            scene_pos.x() - NODE_WIDTH / 2,
            scene_pos.y() - (theme.header_height + theme.body_height) / 2,
        )
        graph = self.document.graph
        name = graph.unique_name(spec.label.lower())
        node = Node(new_id(), spec.type_id, name, spec.normalize({}), pos, spec.version)
        self.document.push(AddNode(node))
        self.select_nodes([node.id])
        return node.id

    def open_search(self, view_pos=None):
        """Open the layer search popup at ``view_pos`` (default: the cursor, else the centre)."""
        if view_pos is None:
            cursor = self.viewport().mapFromGlobal(QCursor.pos())
            inside = self.viewport().rect().contains(cursor)
            view_pos = cursor if inside else self.viewport().rect().center()
        if self._search is None:
            self._search = SearchPopup(self.document.registry, self)
            self._search.chosen.connect(self._on_search_chosen)
        self._search_scene_pos = self.mapToScene(view_pos)
        self._search.open_at(self.viewport().mapToGlobal(view_pos))
        return self._search

    @property
    def search_popup(self):
        """The Tab popup once it has been opened (None before)."""
        return self._search

    def _on_search_chosen(self, type_id):
        self.add_node_at(type_id, self._search_scene_pos)
        self.setFocus()

    def dragEnterEvent(self, event):
        if event.mimeData().hasFormat(NODE_MIME) or dropped_file(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event):
        if event.mimeData().hasFormat(NODE_MIME) or dropped_file(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event):
        mime = event.mimeData()
        if not mime.hasFormat(NODE_MIME) and dropped_file(mime):
            # A file on the canvas is a sample to look inside the model with (Look Inside).
            node_previews(self.document).drop_file(dropped_file(mime))
            event.acceptProposedAction()
            return
        if not mime.hasFormat(NODE_MIME):
            super().dropEvent(event)
            return
        type_id = bytes(mime.data(NODE_MIME)).decode("utf-8").strip()
        self.add_node_at(type_id, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
        self.setFocus()

    # --- clipboard and deletion ----------------------------------------------------------------
    def copy(self):
        ids = self.selected_node_ids()
        if not ids:
            self.message.emit("Nothing selected to copy")
            return
        put_on_clipboard(selection_payload(self.document.graph, ids))

    def cut(self):
        if self.selected_node_ids():
            self.copy()
            self.delete_selected(text="Cut")

    def paste(self):
        """Paste nodes from the clipboard (also from another window); returns the new ids."""
        payload = from_mime(QGuiApplication.clipboard().mimeData())
        if payload is None:
            self.message.emit("The clipboard holds no Layerloom nodes")
            return []
        key = json.dumps(payload, sort_keys=True)
        self._paste_count = self._paste_count + 1 if key == self._paste_key else 1
        self._paste_key = key
        offset = PASTE_OFFSET * self._paste_count
        return self._insert(payload, (offset, offset), None)

    def duplicate(self):
        ids = self.selected_node_ids()
        if not ids:
            return []
        payload = selection_payload(self.document.graph, ids)
        return self._insert(payload, (PASTE_OFFSET, PASTE_OFFSET), "Duplicate")

    def _insert(self, payload, offset, text):
        edit, new_ids = paste_edit(self.document.graph, self.document.registry, payload, offset)
        if text:
            edit.text = text
        self.document.push(edit)
        self.select_nodes(new_ids)
        return new_ids

    def delete_selected(self, text="Delete"):
        ids = self.selected_node_ids()
        doomed = set(ids)
        edits = [
            Disconnect(e)
            for e in self.graph_scene.selected_edges()
            if e.src not in doomed and e.dst not in doomed
        ]
        if ids:
            edits.append(RemoveNodes(ids, text=text))
        if not edits:
            return
        self.document.push(edits[0] if len(edits) == 1 else Composite(edits, text=text))

    # --- layout --------------------------------------------------------------------------------
    def auto_layout(self, direction="lr"):
        """Lay the graph out in layers ("lr" left to right, "tb" top to bottom) as one undo step."""
        graph = self.document.graph
        heights = {i: item.boundingRect().height() for i, item in self.graph_scene.nodes.items()}
        positions = layered_positions(graph, direction, heights)
        if direction == "tb":
            # Cards are wider than the layout's row gap; spread rows so neighbours do not overlap.
            spread = (NODE_WIDTH + 64.0) / ROW_GAP
            positions = {i: (x * spread, y) for i, (x, y) in positions.items()}
        changed = {i: p for i, p in positions.items() if graph.node(i).pos != p}
        if changed:
            self.document.push(Move(changed, text="Auto layout"))
        self.fit()

    # --- look ----------------------------------------------------------------------------------
    def changeEvent(self, event):
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self.graph_scene.set_theme(Theme(self.palette(), self.font()))
            self.resetCachedContent()
        super().changeEvent(event)
