"""GraphView's block and find commands: group the selection into a block, ungroup, collapse or
expand, save a block as a user template, and find a node by name (Ctrl+F).

``BlocksMixin`` is mixed into GraphView; it expects ``document``, ``graph_scene``, ``message``,
``select_nodes`` and ``centerOn``. Every change is one undoable edit through ``document.push``.
"""

from layerloom.app.gui.canvas.clipboard import paste_edit
from layerloom.app.gui.canvas.find_popup import FindPopup, rank_names
from layerloom.nodes.blocks import block_of, block_problem
from layerloom.nodes.edits import GroupBlock, SetCollapsed, Ungroup
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.graph import Block
from layerloom.nodes.user_templates import (
    save_user_template,
    template_data,
    user_template_payload,
)

TEMPLATE_PREFIX = "template:"  # palette entries for user templates carry this before the name


class BlocksMixin:
    _find = None

    # --- blocks --------------------------------------------------------------------------------
    def free_block_name(self, base="block"):
        taken = {b.name for b in self.document.graph.blocks()}
        name, i = base, 1
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        return name

    def group_selected(self, name=None):
        """Group the selected nodes into a collapsed block; returns its name, or None (refused)."""
        ids = self.selected_node_ids()
        if not ids:
            self.message.emit("Select the nodes to group first")
            return None
        block = Block(name or self.free_block_name(), tuple(ids), True)
        problem = block_problem(self.document.graph, block)
        if problem:
            self.message.emit(f"Cannot group: {problem}")
            return None
        self.document.push(GroupBlock(block, text=f"Group {block.name}"))
        self.select_blocks([block.name])
        return block.name

    def selected_block_names(self):
        """Blocks that are selected as cards or that a selected node belongs to."""
        owners = block_of(self.document.graph)
        names = [i.name for i in self.graph_scene.selectedItems() if i in self._cards()]
        names += [owners[i] for i in self.selected_node_ids() if i in owners]
        return list(dict.fromkeys(names))

    def _cards(self):
        return set(self.graph_scene.block_items.values())

    def select_blocks(self, names):
        self.graph_scene.refresh()  # the card exists once the scene caught up with the edit
        self.select_nodes([])
        for name in names:
            card = self.graph_scene.block_items.get(name)
            if card is not None:
                card.setSelected(True)

    def set_collapsed(self, name, collapsed):
        graph = self.document.graph
        if graph.block(name).collapsed != collapsed:
            verb = "Collapse" if collapsed else "Expand"
            self.document.push(SetCollapsed(name, collapsed, text=f"{verb} {name}"))
        self.graph_scene.refresh()

    def toggle_selected_blocks(self):
        names = self.selected_block_names()
        if not names:
            self.message.emit("Select a block (or one of its nodes) to collapse or expand")
        for name in names:
            self.set_collapsed(name, not self.document.graph.block(name).collapsed)

    def ungroup_selected(self):
        names = self.selected_block_names()
        if not names:
            self.message.emit("Select a block (or one of its nodes) to ungroup")
        for name in names:
            self.document.push(Ungroup(name, text=f"Ungroup {name}"))

    def save_block_template(self, template_name, block=None, description=""):
        """Save ``block`` (or the whole graph) as the user template ``template_name``."""
        graph = self.document.graph
        text = description or (f"block {block}" if block else "graph") + " saved from the editor"
        return save_user_template(template_data(graph, text, block), template_name)

    # --- find ----------------------------------------------------------------------------------
    def find_node(self, text):
        """Select and centre the node best matching ``text`` (a collapsed block holding it is
        expanded first); returns its id, or None with a note when nothing matches."""
        graph = self.document.graph
        by_name = {}
        for node in graph.nodes():
            by_name.setdefault(node.name, node.id)
        hits = rank_names(by_name, text)
        if not hits:
            self.message.emit(f"No node named like {text!r}")
            return None
        node_id = by_name[hits[0]]
        owner = block_of(graph).get(node_id)
        if owner is not None and graph.block(owner).collapsed:
            self.set_collapsed(owner, False)
        self.center_on(node_id)
        self.setFocus()
        return node_id

    def open_find(self):
        if self._find is None:
            self._find = FindPopup(self)
            self._find.chosen.connect(self.find_node)
        names = dict.fromkeys(n.name for n in self.document.graph.nodes())
        corner = self.viewport().mapToGlobal(self.viewport().rect().topLeft())
        self._find.open_at(corner, names)
        return self._find

    # --- user templates from the palette -------------------------------------------------------
    def insert_template(self, name, scene_pos):
        """Add the user template ``name`` with its top-left at ``scene_pos``, its blocks kept, as
        one undo step; returns the new node ids."""
        try:
            payload = user_template_payload(name)
        except LayerloomError as error:
            self.message.emit(str(error))
            return []
        xs = [item.get("pos", (0, 0))[0] for item in payload["nodes"]]
        ys = [item.get("pos", (0, 0))[1] for item in payload["nodes"]]
        offset = (scene_pos.x() - min(xs), scene_pos.y() - min(ys))
        graph, registry = self.document.graph, self.document.registry
        edit, new_ids = paste_edit(graph, registry, payload, offset)
        ids = dict(zip((item["id"] for item in payload["nodes"]), new_ids, strict=True))
        for entry in payload.get("blocks", []):
            inner = tuple(ids[i] for i in entry["nodes"] if i in ids)
            block = Block(self.free_block_name(entry["name"]), inner, entry.get("collapsed", True))
            edit.edits.append(GroupBlock(block))
        edit.text = f"Insert template {name}"
        self.document.push(edit)
        self.graph_scene.refresh()
        return new_ids
