"""The node-graph canvas: a QGraphicsScene that observes a Document and a view to edit it.

Public API used by the main window:

    view = GraphView(document)          # a QGraphicsView showing document.graph
    view.selection_changed              # Signal(list[str]): selected node ids
    view.message                        # Signal(str): a note for the status bar (refusals, etc.)
    view.selected_node_ids() -> list[str];  view.select_nodes(ids)
    view.center_on(node_id)             # scroll so the node is centred, and select it
    view.fit();  view.zoom_in();  view.zoom_out()
    view.copy();  view.cut();  view.paste();  view.duplicate();  view.delete_selected()
    view.select_all();  view.auto_layout(direction="lr" | "tb")
    view.add_node_at(type_id, scene_pos)  # used by palette drops and the Tab search popup
    view.open_search(view_pos=None)     # the Tab popup, e.g. for a menu action

Drops with mime type NODE_MIME ("application/x-layerloom-node-type", the type_id as UTF-8) add a
node; copies use GRAPH_MIME ("application/x-layerloom-graph").
"""

from layerloom.app.gui.canvas.clipboard import GRAPH_MIME
from layerloom.app.gui.canvas.view import NODE_MIME, GraphView

__all__ = ["GRAPH_MIME", "NODE_MIME", "GraphView"]
