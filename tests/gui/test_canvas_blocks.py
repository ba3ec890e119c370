"""Blocks and find-a-node on the real canvas: group, collapse to one card, expand, undo, Ctrl+F."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from layerloom.nodes.serialize import graph_to_dict
from tests.gui.helpers import node_named, png_dir


def _ids(document, *names):
    return [node_named(document, n).id for n in names]


def test_group_collapses_to_one_card_expands_and_undoes(documents, make_view, tmp_path):
    doc = documents("residual_cnn", tmp_path / "b.loom")
    view = make_view(doc, size=(1600, 700))
    view.auto_layout("lr")
    before = graph_to_dict(doc.graph)
    names = [n.name for n in doc.graph.nodes()][2:6]
    ids = _ids(doc, *names)
    view.select_nodes(ids)
    assert view.group_selected("Stamm ブロック") == "Stamm ブロック"
    scene = view.graph_scene
    scene.refresh()
    card = scene.block_items["Stamm ブロック"]
    assert card.isVisible() and sorted(card.node_ids) == sorted(ids)
    assert all(not scene.nodes[i].isVisible() for i in ids)
    crossing = [e for e in scene.edges.values() if (e.edge.src in ids) != (e.edge.dst in ids)]
    assert crossing and all(e.isVisible() for e in crossing)
    for edge in crossing:  # wires end on the card's ports, not on the hidden nodes
        end = edge.dst_end if edge.edge.dst in ids else edge.src_end
        assert end is not None and end.card is card
    inner = [e for e in scene.edges.values() if e.edge.src in ids and e.edge.dst in ids]
    assert all(not e.isVisible() for e in inner)
    # A selected card stands for its nodes (copy, delete and the inspector see them all).
    assert sorted(view.selected_node_ids()) == sorted(ids)
    view.fit()
    image = view.grab()
    assert image.save(str(png_dir() / "collapsed_block.png"))

    view.set_collapsed("Stamm ブロック", False)
    assert not scene.block_items and all(scene.nodes[i].isVisible() for i in ids)
    assert all(e.src_end is None and e.dst_end is None for e in scene.edges.values())
    doc.undo_stack.undo()  # collapse again
    scene.refresh()
    assert "Stamm ブロック" in scene.block_items
    doc.undo_stack.undo()  # ungrouped
    scene.refresh()
    assert not doc.graph.blocks() and not scene.block_items
    assert all(scene.nodes[i].isVisible() for i in ids)
    assert graph_to_dict(doc.graph) == before


def test_double_click_expands_and_ungroup_keeps_the_nodes(documents, make_view, tmp_path, qtbot):
    doc = documents("mlp_classifier", tmp_path / "m.loom")
    view = make_view(doc)
    ids = _ids(doc, "hidden_1", "dropout")
    view.select_nodes(ids)
    view.group_selected("head")
    card = view.graph_scene.block_items["head"]
    point = view.mapFromScene(card.sceneBoundingRect().center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    view.graph_scene.refresh()
    assert not doc.graph.block("head").collapsed and not view.graph_scene.block_items
    view.select_nodes(ids[:1])
    view.ungroup_selected()
    assert not doc.graph.blocks() and len(doc.graph) == 5


def test_ctrl_f_selects_and_centres_a_node_by_name(documents, make_view, tmp_path, qtbot):
    doc = documents("residual_cnn", tmp_path / "f.loom")
    view = make_view(doc, size=(800, 500))
    view.auto_layout("lr")
    target = [n for n in doc.graph.nodes()][-1]
    view.center_on([n for n in doc.graph.nodes()][0].id)
    from layerloom.nodes.edits import Rename

    doc.push(Rename(target.id, "Ausgabe_Schicht_é"))
    # Hidden inside a collapsed block: finding it expands the block.
    view.select_nodes([target.id])
    view.group_selected("tail")
    popup = view.open_find()
    QTest.keyClicks(popup.edit, "schicht_É")
    assert popup.hits() == ["Ausgabe_Schicht_é"]
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    assert view.selected_node_ids() == [target.id]
    assert not doc.graph.block("tail").collapsed
    item = view.graph_scene.nodes[target.id]
    centre = view.mapToScene(view.viewport().rect().center())
    assert item.sceneBoundingRect().contains(centre)
    assert view.find_node("no such node") is None


def test_menus_offer_find_and_blocks_and_the_palette_inserts_a_saved_block(mlp_window, qtbot):
    window, _ = mlp_window
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert window.act.find_node in edit_menu.actions()
    assert window.act.find_node.shortcut().toString() == "Ctrl+F"
    window.act.find_node.trigger()
    popup = window.view._find
    assert popup is not None and popup.isVisible()
    popup.hide()
    doc = window.document
    view = window.view
    view.select_nodes(_ids(doc, "hidden_2", "classes"))
    window.act.toggle_block.trigger()  # nothing grouped yet: a note, no change
    assert not doc.graph.blocks()
    view.group_selected("Kopf")
    view.save_block_template("Kopf-Vorlage", "Kopf")
    window.palette.reload_templates()
    assert "template:Kopf-Vorlage" in window.palette.visible_type_ids()
    window.palette.set_filter("vorl")
    assert window.palette.visible_type_ids() == ["template:Kopf-Vorlage"]
    before = len(doc.graph)
    new_ids = view.add_node_at("template:Kopf-Vorlage", (900.0, 600.0))
    assert len(new_ids) == 2 and len(doc.graph) == before + 2
    (inserted,) = [b for b in doc.graph.blocks() if b.name != "Kopf"]
    assert inserted.name == "Kopf_1" and set(inserted.node_ids) == set(new_ids)
    doc.undo_stack.undo()
    assert len(doc.graph) == before and [b.name for b in doc.graph.blocks()] == ["Kopf"]


def test_dragging_a_collapsed_card_moves_its_nodes_as_one_undo_step(documents, make_view, tmp_path):
    doc = documents("mlp_classifier", tmp_path / "d.loom")
    view = make_view(doc)
    ids = _ids(doc, "hidden_1", "dropout")
    before = {i: doc.graph.node(i).pos for i in ids}
    view.select_nodes(ids)
    view.group_selected("mitte")
    card = view.graph_scene.block_items["mitte"]
    start = view.mapFromScene(card.sceneBoundingRect().center())
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        QTest.mouseMove(view.viewport(), start + QPoint(step * 10, step * 6))
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(50, 30))
    after = {i: doc.graph.node(i).pos for i in ids}
    moved = {i: (after[i][0] - before[i][0], after[i][1] - before[i][1]) for i in ids}
    assert len(set(moved.values())) == 1 and next(iter(moved.values())) != (0.0, 0.0)
    assert doc.undo_stack.undoText() == "Move mitte"
    doc.undo_stack.undo()
    assert {i: doc.graph.node(i).pos for i in ids} == before
