"""Editing on the canvas: adding, connecting, selecting, moving, deleting, copy and paste."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from layerloom.app.gui.canvas import NODE_MIME
from tests.gui.canvas_helpers import (
    add,
    at,
    body,
    drag,
    edges,
    in_port,
    link,
    messages_of,
    out_port,
    press_move,
)


# --- adding nodes -------------------------------------------------------------------------------
def test_palette_drop_adds_a_node_where_dropped(documents, make_view):
    doc = documents()
    view = make_view(doc)
    mime = QMimeData()
    mime.setData(NODE_MIME, b"keras.layers.Dense")
    where = QPointF(300, 200)
    enter = QDragEnterEvent(
        where.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        where, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(view.viewport(), drop)

    (node,) = doc.graph.nodes()
    assert node.type_id == "keras.layers.Dense"
    assert node.name == "dense"
    assert node.params == doc.registry["keras.layers.Dense"].normalize({})
    card = view.graph_scene.nodes[node.id]
    assert card.sceneBoundingRect().contains(view.mapToScene(where.toPoint()))
    assert view.selected_node_ids() == [node.id]
    assert doc.undo_stack.count() == 1


def test_tab_opens_search_and_enter_adds_the_top_hit(documents, make_view, qtbot):
    doc = documents()
    add(doc, "keras.Input", "image", shape=(28, 28, 1))
    view = make_view(doc)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    popup = view.search_popup
    assert popup is not None and popup.isVisible()
    QTest.keyClicks(popup.edit, "conv2")
    assert popup.hits()[0] == "keras.layers.Conv2D"
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)

    assert not popup.isVisible()
    added = [n for n in doc.graph.nodes() if n.type_id == "keras.layers.Conv2D"]
    assert [n.name for n in added] == ["conv2d"]


def test_double_click_on_empty_canvas_opens_search(documents, make_view):
    view = make_view(documents())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(400, 300))
    assert view.search_popup is not None and view.search_popup.isVisible()
    view.search_popup.hide()


# --- connecting ---------------------------------------------------------------------------------
def test_dragging_output_to_input_connects(documents, make_view, qtbot):
    doc = documents()
    image = add(doc, "keras.Input", "image", (0, 0), shape=(28, 28, 1))
    conv = add(doc, "Conv2D", "conv", (300, 0), filters=16, kernel_size=(3, 3))
    view = make_view(doc)
    before = doc.undo_stack.count()

    drag(view, out_port(view, image), in_port(view, conv))

    assert edges(doc) == {(image, conv, "input")}
    assert doc.undo_stack.count() == before + 1
    edge_item = view.graph_scene.edges[(image, conv, "input")]
    qtbot.waitUntil(lambda: edge_item.label == "(28, 28, 1)")
    assert view.graph_scene.nodes[conv].shape_text == "(26, 26, 16)"


def test_dragging_onto_a_card_uses_its_free_port(documents, make_view):
    doc = documents()
    a = add(doc, "keras.Input", "a", (0, 0), shape=(4,))
    b = add(doc, "keras.Input", "b", (0, 150), shape=(4,))
    merge = add(doc, "Add", "merge", (300, 50))
    view = make_view(doc)
    drag(view, out_port(view, a), body(view, merge))
    drag(view, out_port(view, b), body(view, merge))
    assert edges(doc) == {(a, merge, "in0"), (b, merge, "in1")}
    # A variadic node shows its connected ports plus one free one.
    assert list(view.graph_scene.nodes[merge].inputs) == ["in0", "in1", "in2"]


def test_a_connection_that_would_make_a_cycle_is_refused_with_the_reason(documents, make_view):
    doc = documents()
    image = add(doc, "keras.Input", "image", (0, 0), shape=(8,))
    first = add(doc, "Dense", "first", (250, 0), units=8)
    second = add(doc, "Dense", "second", (500, 0), units=8)
    link(doc, image, first)
    link(doc, first, second)
    view = make_view(doc)
    seen = messages_of(view)
    before = edges(doc), doc.undo_stack.count()

    end = press_move(view, out_port(view, second), in_port(view, first))
    wiring = view.graph_scene.wiring
    assert wiring.verdict is not None and not wiring.verdict.ok
    assert "cycle" in wiring.last_reason
    assert view.graph_scene.nodes[first].inputs["input"].state == "refused"
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)

    assert (edges(doc), doc.undo_stack.count()) == before
    assert seen and "cycle" in seen[-1]
    assert not wiring.active


def test_an_incompatible_shape_is_refused_with_the_reason(documents, make_view):
    doc = documents()
    vector = add(doc, "keras.Input", "vector", (0, 0), shape=(8,))
    conv = add(doc, "Conv2D", "conv", (300, 0))
    view = make_view(doc)
    seen = messages_of(view)

    drag(view, out_port(view, vector), in_port(view, conv))

    assert edges(doc) == set()
    assert "incompatible shape" in seen[-1]
    assert "rank 3" in seen[-1]


def test_connecting_to_an_occupied_input_replaces_it_in_one_undo_step(documents, make_view):
    doc = documents()
    old = add(doc, "keras.Input", "old", (0, 0), shape=(8,))
    new = add(doc, "keras.Input", "new", (0, 150), shape=(8,))
    dense = add(doc, "Dense", "dense", (300, 50))
    link(doc, old, dense)
    view = make_view(doc)
    before = doc.undo_stack.count()

    drag(view, out_port(view, new), in_port(view, dense))

    assert edges(doc) == {(new, dense, "input")}
    assert doc.undo_stack.count() == before + 1
    doc.undo_stack.undo()
    assert edges(doc) == {(old, dense, "input")}


def test_dragging_an_edge_off_its_input_onto_empty_canvas_disconnects(documents, make_view):
    doc = documents()
    image = add(doc, "keras.Input", "image", (0, 0), shape=(8,))
    dense = add(doc, "Dense", "dense", (300, 0))
    link(doc, image, dense)
    view = make_view(doc)

    drag(view, in_port(view, dense), in_port(view, dense) + QPointF(0, 250))

    assert edges(doc) == set()
    assert (image, dense, "input") not in view.graph_scene.edges
    doc.undo_stack.undo()
    assert edges(doc) == {(image, dense, "input")}
    assert (image, dense, "input") in view.graph_scene.edges


# --- selection, moving, deleting ----------------------------------------------------------------
def test_moving_a_selection_by_drag_is_one_undo_step(documents, make_view):
    doc = documents()
    a = add(doc, "keras.Input", "a", (0, 0), shape=(8,))
    b = add(doc, "Dense", "b", (250, 0))
    link(doc, a, b)
    view = make_view(doc)
    view.select_nodes([a, b])
    before = doc.undo_stack.count()

    drag(view, body(view, a), body(view, a) + QPointF(60, 40), steps=6)

    assert doc.undo_stack.count() == before + 1
    assert doc.graph.node(a).pos == (60.0, 40.0)
    assert doc.graph.node(b).pos == (310.0, 40.0)
    doc.undo_stack.undo()
    assert (doc.graph.node(a).pos, doc.graph.node(b).pos) == ((0.0, 0.0), (250.0, 0.0))
    assert view.graph_scene.nodes[b].pos() == QPointF(250, 0)
    doc.undo_stack.redo()
    assert view.graph_scene.nodes[b].pos() == QPointF(310, 40)
    # The edge followed its nodes.
    edge_item = view.graph_scene.edges[(a, b, "input")]
    assert edge_item.boundingRect().contains(in_port(view, b))


def test_rubber_band_and_ctrl_click_select_nodes(documents, make_view):
    doc = documents()
    a = add(doc, "keras.Input", "a", (0, 0), shape=(8,))
    b = add(doc, "Dense", "b", (250, 0))
    far = add(doc, "Dense", "far", (700, 300))
    view = make_view(doc)
    seen = []
    view.selection_changed.connect(seen.append)
    drag(view, QPointF(-30, -40), QPointF(420, 120))
    assert set(view.selected_node_ids()) == {a, b}
    assert seen and set(seen[-1]) == {a, b}

    ctrl = Qt.KeyboardModifier.ControlModifier
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, ctrl, at(view, body(view, far)))
    assert set(view.selected_node_ids()) == {a, b, far}
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, ctrl, at(view, body(view, a)))
    assert set(view.selected_node_ids()) == {b, far}
    assert doc.undo_stack.count() == 3  # clicking is not moving: no Move edits


def test_delete_key_removes_selection_with_edges_and_undo_restores(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc)
    by_name = {n.name: n.id for n in doc.graph.nodes()}
    view.select_nodes([by_name["conv_1"], by_name["pool_1"]])
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)

    assert {n.name for n in doc.graph.nodes()}.isdisjoint({"conv_1", "pool_1"})
    assert len(doc.graph) == 7 and len(edges(doc)) == 5
    assert set(view.graph_scene.nodes) == {n.id for n in doc.graph.nodes()}
    assert len(view.graph_scene.edges) == 5
    doc.undo_stack.undo()
    assert len(doc.graph) == 9 and len(edges(doc)) == 8
    assert len(view.graph_scene.nodes) == 9 and len(view.graph_scene.edges) == 8

    # A selected edge on its own is disconnected.
    view.select_nodes([])
    link_item = view.graph_scene.edges[(by_name["flatten"], by_name["dropout"], "input")]
    link_item.setSelected(True)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert len(doc.graph) == 9 and (by_name["flatten"], by_name["dropout"], "input") not in edges(
        doc
    )


# --- clipboard ----------------------------------------------------------------------------------
def test_copy_paste_between_two_windows(documents, make_view, tmp_path):
    source = documents("small_cnn", tmp_path / "a.loom")
    target = documents()
    source_view, target_view = make_view(source), make_view(target)
    by_name = {n.name: n.id for n in source.graph.nodes()}
    picked = [by_name["conv_1"], by_name["pool_1"], by_name["conv_2"]]
    source_view.select_nodes(picked)
    source_view.copy()

    pasted = target_view.paste()

    names = {target.graph.node(i).name: i for i in pasted}
    assert set(names) == {"conv_1", "pool_1", "conv_2"}
    assert set(pasted).isdisjoint(n.id for n in source.graph.nodes())
    assert edges(target) == {
        (names["conv_1"], names["pool_1"], "input"),
        (names["pool_1"], names["conv_2"], "input"),
    }
    for name, node_id in names.items():
        original = source.graph.node(by_name[name])
        copy = target.graph.node(node_id)
        assert copy.params == original.params and copy.type_id == original.type_id
        assert copy.pos != original.pos  # offset so a paste is visibly new
    assert set(target_view.selected_node_ids()) == set(pasted)
    assert target.undo_stack.count() == 1

    again = target_view.paste()
    assert {target.graph.node(i).name for i in again} == {"conv_1_1", "pool_1_1", "conv_2_1"}
    target.undo_stack.undo()
    target.undo_stack.undo()
    assert len(target.graph) == 0


def test_duplicate_and_cut(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc)
    by_name = {n.name: n.id for n in doc.graph.nodes()}
    view.select_nodes([by_name["conv_1"], by_name["pool_1"]])

    copies = view.duplicate()

    assert len(doc.graph) == 11 and len(edges(doc)) == 9
    assert sorted(doc.graph.node(i).name for i in copies) == ["conv_1_1", "pool_1_1"]
    assert set(view.selected_node_ids()) == set(copies)
    assert not [p for p in doc.analysis.problems() if p.kind == "name"]

    view.cut()
    assert len(doc.graph) == 9
    view.paste()
    assert len(doc.graph) == 11 and len(edges(doc)) == 9
