"""The main window's block and find actions: Edit ▸ Find Node (Ctrl+F) and Arrange ▸ Group into
Block, Ungroup, Collapse or Expand Block, Save as Template. The work is in the canvas
(``canvas/blocks_view.py``); here are only the actions and the two name prompts."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QInputDialog

from layerloom.nodes.errors import LayerloomError


def add_block_actions(window, a: SimpleNamespace, make_action) -> None:
    view = lambda: window.view  # noqa: E731 - the current canvas, replaced by New/Open
    a.find_node = make_action(
        window,
        "&Find Node…",
        lambda: view().open_find(),
        QKeySequence.StandardKey.Find,
        None,
        "Find a node by name: select it and centre it",
    )
    a.group = make_action(
        window,
        "&Group into Block…",
        lambda: group(window),
        "Ctrl+G",
        None,
        "Group the selected nodes into a named block shown as one card",
    )
    a.ungroup = make_action(
        window, "&Ungroup Block", lambda: view().ungroup_selected(), "Ctrl+Shift+G"
    )
    a.toggle_block = make_action(
        window,
        "&Collapse or Expand Block",
        lambda: view().toggle_selected_blocks(),
        "Ctrl+Alt+G",
    )
    a.save_template = make_action(
        window,
        "Save Block as &Template…",
        lambda: save_template(window),
        None,
        None,
        "Save the selected block (or the whole graph) as a template for New and the palette",
    )


def group(window) -> None:
    view = window.view
    if not view.selected_node_ids():
        window.show_message("Select the nodes to group first")
        return
    name, ok = QInputDialog.getText(
        window, "Group into Block", "Block name:", text=view.free_block_name()
    )
    if ok and name.strip():
        view.group_selected(name.strip())


def save_template(window) -> None:
    view = window.view
    blocks = view.selected_block_names()
    block = blocks[0] if blocks else None
    what = f"block {block}" if block else "the whole graph"
    name, ok = QInputDialog.getText(
        window, "Save as Template", f"Template name for {what}:", text=block or ""
    )
    if not ok or not name.strip():
        return
    try:
        path = view.save_block_template(name.strip(), block)
    except LayerloomError as error:
        window.show_message(str(error))
        return
    window.show_message(f"Saved template {name.strip()!r} to {path}")
    window.palette.reload_templates()
