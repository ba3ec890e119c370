"""GraphScene: mirrors one Document's graph as items, and turns gestures into undoable edits.

The scene observes ``document.changed`` and adds, removes or updates exactly the items an event
touches; it never mutates the graph itself. Analysis results (shapes, parameter counts, problems)
are refreshed from a zero-delay single-shot timer, so a paste of 1000 nodes repaints labels once.
Export badges follow the document's ``ExportCompatibility``, which names the nodes whose refusals
changed.
"""

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene

from layerloom.app.gui.canvas.block_item import BlockItem, sync_blocks
from layerloom.app.gui.canvas.edges import EdgeItem
from layerloom.app.gui.canvas.interaction import WireController
from layerloom.app.gui.canvas.items import NODE_Z, SELECTED_NODE_Z, NodeItem
from layerloom.app.gui.canvas.preview_item import show_previews
from layerloom.app.gui.canvas.style import Theme, format_params
from layerloom.app.gui.export_compat import compatibility
from layerloom.app.gui.health_overlay import NO_MARK, health_overlay
from layerloom.app.gui.previews import node_previews
from layerloom.nodes.edits import Move
from layerloom.nodes.spec import format_shape

SCENE_EXTENT = 200_000.0  # a fixed, huge scene rect: panning is never blocked by the item bounds
SMOOTH_EDGE_LIMIT = 300  # above this many edges, draw them aliased (paint cost; bench/gui.py)


def visible_ports(spec, connected):
    """Input ports a node shows: the spec's ports for its connections, plus any stray connected
    port (from an older file) so its edge still has somewhere to land."""
    if spec is None:
        return sorted(connected)
    shown = spec.input_ports(len(connected))
    extra = [p for p in connected if p not in shown]
    if not spec.variadic_inputs:
        return shown + sorted(extra)
    names = set(shown) | set(extra)
    ordered = sorted(names, key=lambda p: int(p[2:]) if p[2:].isdigit() else 1 << 30)
    # Gaps (in0 and in2 connected) leave a free port already; otherwise offer the next one.
    if all(p in connected for p in ordered):
        if spec.max_inputs is None or len(ordered) < spec.max_inputs:
            ordered.append(f"in{len(ordered)}")
    return ordered


class GraphScene(QGraphicsScene):
    message = Signal(str)  # a short user-facing note (e.g. why a connection was refused)
    refreshed = Signal()  # items changed (after the coalesced refresh); the minimap listens

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.theme = Theme.from_application()
        self.nodes = {}  # node id -> NodeItem
        self.edges = {}  # (src, dst, port) -> EdgeItem
        self.block_items = {}  # collapsed block name -> BlockItem (block_item.py)
        self.hidden_nodes = {}  # node id -> the BlockItem that stands in for it
        self._blocks_dirty = True
        self._building = False
        self.smooth_edges = True
        self._nodes_rect = None  # cache for nodes_rect()
        self._card_grid = None  # cache for cards_in(): grid cell -> cards overlapping it
        self.layout_version = 0
        self._raised = set()  # ids of cards lifted above the others (the selection)
        self.wiring = WireController(self)
        half = SCENE_EXTENT / 2
        self.setSceneRect(-half, -half, SCENE_EXTENT, SCENE_EXTENT)
        self._analysis_dirty = True
        self._generation = -1  # the analysis generation last shown; -1: show everything
        self._unlabelled = set()  # ids of nodes added (or given edges) since the last refresh
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self.export_compat = compatibility(document)
        self._build()
        document.changed.connect(self._on_changed)
        document.analysis_changed.connect(self._on_analysis_changed)
        self.export_compat.changed.connect(self._on_refusals_changed)
        self.health = health_overlay(document)  # node colours by a health figure (Health panel)
        self.health.changed.connect(self._on_health_changed)
        self.previews = node_previews(document)  # each node's output on a sample (Look Inside)
        self.previews.changed.connect(self._on_previews_changed)

    # --- mirroring the graph -------------------------------------------------------------------
    def _build(self):
        graph = self.document.graph
        # Each card gets its final ports at once, so no edge is laid out twice (3000 nodes).
        self._building = True
        try:
            for node in graph.nodes():
                self._add_node(node)
            for edge in graph.edges():
                self._add_edge(edge)
        finally:
            self._building = False
        # Once every card is placed (one index build, not one per edge): detours around cards.
        for item in self.edges.values():
            item.update_path()
        self.refresh()
        self._on_refusals_changed(set(self.export_compat.by_node))

    def _on_changed(self, event):
        kind = event.kind
        graph = self.document.graph
        if kind in ("node_added", "node_removed", "moved"):
            self._nodes_rect = self._card_grid = None
            self.layout_version += 1  # the minimap redraws its node blocks only when this moves
        if kind != "params_changed":  # a block's card follows its nodes, wires and name
            self._blocks_dirty = True
        if self.wiring.active and kind in ("node_removed", "edge_removed"):
            self.wiring.cancel()  # e.g. an undo mid-drag: the wire may point at nothing now
        if kind == "node_added":
            self._add_node(graph.node(event.node_id))
        elif kind == "node_removed":
            self._remove_node(event.node_id)
        elif kind == "edge_added":
            self._add_edge(event.edge)
        elif kind == "edge_removed":
            self._remove_edge(event.edge)
        elif kind == "renamed":
            self.nodes[event.node_id].set_name(graph.node(event.node_id).name)
        elif kind == "trainable_changed":
            self.nodes[event.node_id].set_frozen(not graph.node(event.node_id).trainable)
        elif kind == "moved":
            item = self.nodes[event.node_id]
            x, y = graph.node(event.node_id).pos
            if (item.pos().x(), item.pos().y()) != (x, y):
                item.setPos(x, y)
                item.update_edges()
        self._refresh_timer.start()

    def _on_analysis_changed(self):
        self._analysis_dirty = True
        self._refresh_timer.start()

    def _add_node(self, node):
        spec = self.document.registry.get(node.type_id)
        self._unlabelled.add(node.id)
        self._analysis_dirty = True
        item = NodeItem(node, spec, self.theme)
        graph = self.document.graph
        connected = [e.port for e in graph.in_edges(node.id)] if self._building else []
        item.set_ports(visible_ports(spec, connected), set(connected))
        # What the compatibility knows now; it names this node again if that changes.
        item.set_refusals(self.export_compat.node_refusals(node.id))
        self.nodes[node.id] = item
        self.addItem(item)

    def _remove_node(self, node_id):
        item = self.nodes.pop(node_id, None)
        if item is None:
            return
        if self.wiring.active and self.wiring.anchor_port.node_item is item:
            self.wiring.cancel()
        self.removeItem(item)

    def _add_edge(self, edge):
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        item = EdgeItem(edge, src, dst, self.theme)
        self._unlabelled.add(edge.src)  # the new edge's label is its source's shape
        self._analysis_dirty = True
        self.edges[(edge.src, edge.dst, edge.port)] = item
        src.edges.add(item)
        dst.edges.add(item)
        self.addItem(item)
        if not self._building:  # a built scene reroutes all its edges at once (_build)
            item.update_path()  # again now it is in the scene, to go around cards in its way
        src.set_output_connected(True)
        if not self._building:
            self._sync_ports(edge.dst)

    def _remove_edge(self, edge):
        item = self.edges.pop((edge.src, edge.dst, edge.port), None)
        if item is None:
            return
        item.src_item.edges.discard(item)
        item.dst_item.edges.discard(item)
        self.removeItem(item)
        graph = self.document.graph
        if edge.src in self.nodes:
            self.nodes[edge.src].set_output_connected(bool(graph.out_edges(edge.src)))
        if edge.dst in self.nodes:
            self._sync_ports(edge.dst)

    def _sync_ports(self, node_id):
        graph = self.document.graph
        node = graph.node(node_id)
        spec = self.document.registry.get(node.type_id)
        connected = [e.port for e in graph.in_edges(node_id)]
        self.nodes[node_id].set_ports(visible_ports(spec, connected), set(connected))

    # --- analysis labels -----------------------------------------------------------------------
    def refresh(self):
        """Bring shapes, parameter counts, problem badges and edge labels up to date.

        Only nodes the analysis reports as changed (plus newly added nodes and edges) are touched,
        so a param edit in a 1000-node graph updates a handful of items, not all of them.
        """
        self._refresh_timer.stop()
        if self._blocks_dirty:
            self._blocks_dirty = False
            sync_blocks(self)
        if self._analysis_dirty:
            self._analysis_dirty = False
            analysis = self.document.analysis
            changed = analysis.changes_since(self._generation)
            self._generation = analysis.generation
            ids = set(self.nodes) if changed is None else (changed | self._unlabelled)
            self._unlabelled = set()
            for node_id in ids:
                item = self.nodes.get(node_id)
                if item is None:
                    continue  # removed since
                result = analysis.result(node_id)
                shape_text = format_shape(result.shape) if result.shape is not None else ""
                messages = [p.message for p in analysis.node_problems(node_id)]
                item.set_info(shape_text, format_params(result.params), messages)
                for edge_item in item.edges:
                    if edge_item.src_item is item:
                        edge_item.set_label(shape_text)
        self.smooth_edges = len(self.edges) <= SMOOTH_EDGE_LIMIT
        self._grow_scene_rect()
        self.refreshed.emit()

    def _grow_scene_rect(self):
        """Keep every card inside the scene rect: Qt's BSP index files items outside it into its
        border cells, and a 3000-node chain (720,000 units long) then made each repaint scan
        thousands of items (bench/big_graphs.py). Grows only, so panning stays free."""
        rect = self.nodes_rect()
        if rect is None or self.sceneRect().contains(rect):
            return
        half = SCENE_EXTENT / 2
        self.setSceneRect(self.sceneRect().united(rect.adjusted(-half, -half, half, half)))

    def _on_refusals_changed(self, node_ids):
        for node_id in node_ids:
            item = self.nodes.get(node_id)
            if item is not None:
                item.set_refusals(self.export_compat.node_refusals(node_id))

    def _on_health_changed(self):
        marks = self.health.marks()
        for item in self.nodes.values():
            item.set_health(marks.get(item.name, NO_MARK))

    def _on_previews_changed(self):
        show_previews(self, self.previews)

    def set_theme(self, theme):
        self.theme = theme
        self._nodes_rect = self._card_grid = None  # card heights follow the font
        self.layout_version += 1
        for item in self.nodes.values():
            item.set_theme(theme)
        for item in self.edges.values():
            item.set_theme(theme)
        self.update()

    # --- selection and moves -------------------------------------------------------------------
    def selected_node_ids(self):
        """Selected nodes, a selected block card standing for all its nodes."""
        ids = []
        for item in self.selectedItems():
            if isinstance(item, NodeItem):
                ids.append(item.node_id)
            elif isinstance(item, BlockItem):
                ids += item.node_ids
        return ids

    def selected_edges(self):
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def nodes_rect(self):
        """The bounding rect of all node cards (the scene rect is deliberately far bigger), or None
        for an empty graph. Cached: the minimap asks on every scroll step."""
        if self._nodes_rect is None and self.nodes:
            rect = None
            for item in self.nodes.values():
                r = item.sceneBoundingRect()
                rect = r if rect is None else rect.united(r)
            self._nodes_rect = rect
        return self._nodes_rect if self.nodes else None

    def cards_in(self, rect):
        """The visible cards whose bounds meet ``rect``: a grid of card rects built once per
        change, as QGraphicsScene.items() asks every item's boundingRect (slow in big scenes)."""
        if self._card_grid is None:
            self._card_grid = {}
            for item in self.nodes.values():
                bounds = item.sceneBoundingRect()
                for cell in _cells(bounds):
                    self._card_grid.setdefault(cell, []).append((item, bounds))
        found = {}
        for cell in _cells(rect):
            for item, bounds in self._card_grid.get(cell, ()):
                # Visibility at query time: a collapsed block hides cards without moving them.
                if item.isVisible() and bounds.intersects(rect):
                    found[item] = bounds
        return found

    def follow_moved_nodes(self, grabbed):
        """Re-route the edges of the cards Qt just moved (the grabbed one and the selection)."""
        self._nodes_rect = self._card_grid = None
        moved = set(self.selectedItems())
        moved.add(grabbed)
        done = set()
        for item in moved:
            for edge in getattr(item, "edges", ()):
                if edge not in done:
                    done.add(edge)
                    edge.update_path()

    def restack(self, selected_ids):
        """Selected cards float above their neighbours so a dragged stack stays readable."""
        for node_id in self._raised - set(selected_ids):
            item = self.nodes.get(node_id)
            if item is not None:
                item.setZValue(NODE_Z)
        for node_id in selected_ids:
            self.nodes[node_id].setZValue(SELECTED_NODE_Z)
        self._raised = set(selected_ids)

    def mouseReleaseEvent(self, event):
        super().mouseReleaseEvent(event)
        self.commit_moves()

    def commit_moves(self):
        """Turn what Qt moved during a drag into one Move edit for all moved nodes."""
        graph = self.document.graph
        moved = {}
        for node_id, item in self.nodes.items():
            pos = (item.pos().x(), item.pos().y())
            if pos != graph.node(node_id).pos:
                moved[node_id] = pos
        if moved:
            label = graph.node(next(iter(moved))).name if len(moved) == 1 else f"{len(moved)} nodes"
            self.document.push(Move(moved, text=f"Move {label}"))


GRID_CELL = 400.0  # scene units per cell of the card grid (about two cards)


def _cells(rect):
    x0, x1 = int(rect.left() // GRID_CELL), int(rect.right() // GRID_CELL)
    y0, y1 = int(rect.top() // GRID_CELL), int(rect.bottom() // GRID_CELL)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
