"""The main window's panels driven as a user would: inspector, undo/redo, palette."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from layerloom.app.gui.session import untitled_document
from layerloom.nodes.edits import AddNode, Move, RemoveNodes, Rename, SetParams
from tests.gui.helpers import add_node, broken_document, node_named, snapshot


# --- inspector ----------------------------------------------------------------------------------
def test_spin_box_edit_changes_params_and_undo_restores(mlp_window):
    window, _ = mlp_window
    doc = window.document
    hidden = node_named(doc, "hidden_1")
    window.inspector.show_node(hidden.id)

    window.inspector.editors["units"].spin.setValue(48)

    assert doc.graph.node(hidden.id).params["units"] == 48
    assert doc.undo_stack.count() == 1
    assert window.isWindowModified()
    window.act.undo.trigger()
    assert doc.graph.node(hidden.id).params["units"] == 64
    assert window.inspector.editors["units"].spin.value() == 64  # the panel follows undo
    window.act.redo.trigger()
    assert doc.graph.node(hidden.id).params["units"] == 48
    assert window.inspector.editors["units"].spin.value() == 48


def test_typing_several_values_merges_into_one_undo_step(mlp_window, qtbot):
    window, _ = mlp_window
    doc = window.document
    hidden = node_named(doc, "hidden_1")
    window.inspector.show_node(hidden.id)
    spin = window.inspector.editors["units"].spin
    spin.selectAll()
    qtbot.keyClicks(spin, "128")  # 1, 12, 128: three edits while typing

    assert doc.graph.node(hidden.id).params["units"] == 128
    assert doc.undo_stack.count() == 1
    rate = window.inspector  # a second param is its own step
    dropout = node_named(doc, "dropout")
    rate.show_node(dropout.id)
    rate.editors["rate"].spin.setValue(0.25)
    rate.editors["rate"].spin.setValue(0.3)
    assert doc.undo_stack.count() == 2
    assert doc.graph.node(dropout.id).params["rate"] == pytest.approx(0.3)

    window.act.undo.trigger()
    assert doc.graph.node(dropout.id).params["rate"] == pytest.approx(0.2)
    window.act.undo.trigger()
    assert doc.graph.node(hidden.id).params["units"] == 64
    assert not doc.modified


def test_choice_and_bool_editors_push_edits(mlp_window):
    window, _ = mlp_window
    doc = window.document
    hidden = node_named(doc, "hidden_1")
    window.inspector.show_node(hidden.id)
    combo = window.inspector.editors["activation"].combo
    combo.setCurrentText("tanh")
    window.inspector.editors["use_bias"].check.setChecked(False)

    params = doc.graph.node(hidden.id).params
    assert (params["activation"], params["use_bias"]) == ("tanh", False)
    assert doc.undo_stack.count() == 2


def test_optional_param_set_checkbox_toggles_none(make_window):
    doc = untitled_document("small_cnn")
    window, _ = make_window(doc)
    pool = next(n for n in doc.graph.nodes() if n.type_id == "keras.layers.MaxPooling2D")
    window.inspector.show_node(pool.id)
    editor = window.inspector.editors["strides"]
    assert not editor.check.isChecked() and not editor.inner.isEnabled()

    editor.check.setChecked(True)
    assert doc.graph.node(pool.id).params["strides"] == (1, 1)
    editor.inner.spins[0].setValue(2)
    assert doc.graph.node(pool.id).params["strides"] == (2, 1)
    editor.check.setChecked(False)
    assert doc.graph.node(pool.id).params["strides"] is None


def test_variable_length_ints_are_typed_as_text(mlp_window, qtbot):
    window, _ = mlp_window
    doc = window.document
    features = node_named(doc, "features")
    window.inspector.show_node(features.id)
    edit = window.inspector.editors["shape"].edit
    edit.selectAll()
    qtbot.keyClicks(edit, "?, 16")
    assert doc.graph.node(features.id).params["shape"] == (None, 16)
    qtbot.keyClicks(edit, ", x")  # not a number: nothing is pushed, the field says why
    assert doc.graph.node(features.id).params["shape"] == (None, 16)
    assert edit.property("invalid") is True
    assert doc.undo_stack.count() == 1


def test_inspector_shows_shape_params_and_problems(make_window):
    document, orphan = broken_document()
    window, _ = make_window(document)
    hidden = node_named(document, "hidden")
    window.inspector.show_node(hidden.id)
    assert window.inspector.shape_label.text() == "(batch, 4)"
    assert window.inspector.count_label.text() == "36 params"
    assert window.inspector.problems_label.isHidden()

    window.inspector.show_node(orphan.id)
    assert "input 'input' is not connected" in window.inspector.problems_label.text()
    assert not window.inspector.problems_label.isHidden()


def test_rename_via_inspector_refuses_empty_and_duplicate_names(mlp_window):
    window, _ = mlp_window
    doc = window.document
    hidden = node_named(doc, "hidden_1")
    inspector = window.inspector
    inspector.show_node(hidden.id)

    for bad, message in (("hidden_2", "already the name"), ("   ", "cannot be empty")):
        inspector.name_edit.setText(bad)
        inspector.name_edit.editingFinished.emit()
        assert message in inspector.name_error.text()
        assert not inspector.name_error.isHidden()
        assert doc.graph.node(hidden.id).name == "hidden_1"
    assert doc.undo_stack.count() == 0

    inspector.name_edit.setText("encoder")
    inspector.name_edit.editingFinished.emit()
    assert doc.graph.node(hidden.id).name == "encoder"
    assert inspector.name_error.isHidden()
    window.act.undo.trigger()
    assert doc.graph.node(hidden.id).name == "hidden_1"
    assert inspector.name_edit.text() == "hidden_1"


def test_inspector_follows_the_view_selection(mlp_window):
    window, _ = mlp_window
    hidden = node_named(window.document, "hidden_2")
    window.view.select_nodes([hidden.id])
    assert window.inspector.node_id == hidden.id
    window.view.select_nodes([])
    assert window.inspector.node_id is None


# --- undo / redo --------------------------------------------------------------------------------
def test_undo_redo_for_add_remove_params_rename_move(mlp_window):
    window, _ = mlp_window
    doc = window.document
    hidden = node_named(doc, "hidden_2")
    extra = add_node(doc, "keras.layers.Dense", "extra", units=7)
    edits = [
        AddNode(extra),
        Move({extra.id: (500.0, 250.0)}),
        SetParams(extra.id, {**extra.params, "units": 9}),
        Rename(extra.id, "head"),
        RemoveNodes([hidden.id]),  # takes its two edges along
    ]
    states = [snapshot(doc)]
    for edit in edits:
        doc.push(edit)
        states.append(snapshot(doc))
    assert doc.graph.node(extra.id).name == "head"
    assert hidden.id not in doc.graph

    for expected in reversed(states[:-1]):
        assert window.act.undo.isEnabled()
        window.act.undo.trigger()
        assert snapshot(doc) == expected
    assert not window.act.undo.isEnabled() and not doc.modified
    for expected in states[1:]:
        window.act.redo.trigger()
        assert snapshot(doc) == expected
    assert window.act.undo.text().replace("&", "") == "Undo Delete"


# --- palette ------------------------------------------------------------------------------------
def test_palette_search_filters_entries(mlp_window, qtbot):
    window, _ = mlp_window
    palette = window.palette
    everything = palette.visible_type_ids()
    assert len(everything) == len(window.document.registry)
    qtbot.keyClicks(palette.search, "pool")
    shown = palette.visible_type_ids()
    assert shown and all("pool" in t.lower() for t in shown)
    assert set(shown) == {s.type_id for s in window.document.registry.search("pool")}
    palette.search.clear()
    assert palette.visible_type_ids() == everything


def test_palette_tooltip_is_the_spec_doc(mlp_window):
    window, _ = mlp_window
    spec = window.document.registry["keras.layers.Dense"]
    assert spec.doc in window.palette.items[spec.type_id].toolTip(0)


def test_palette_enter_adds_the_node_to_the_graph(mlp_window, qtbot):
    window, _ = mlp_window
    doc = window.document
    before = {n.id for n in doc.graph.nodes()}
    qtbot.keyClicks(window.palette.search, "LayerNorm")
    qtbot.keyClick(window.palette.search, Qt.Key.Key_Return)

    added = [n for n in doc.graph.nodes() if n.id not in before]
    assert [n.type_id for n in added] == ["keras.layers.LayerNormalization"]
    window.act.undo.trigger()
    assert {n.id for n in doc.graph.nodes()} == before


def test_palette_activation_from_the_list_adds_the_node(mlp_window):
    window, _ = mlp_window
    doc = window.document
    item = window.palette.items["keras.layers.Dropout"]
    window.palette.tree.setCurrentItem(item)
    count = len(doc.graph)
    window.palette.tree.itemActivated.emit(item, 0)
    assert len(doc.graph) == count + 1


def test_palette_drag_payload_is_the_type_id(mlp_window):
    window, _ = mlp_window
    tree = window.palette.tree
    mime = tree.mimeData([window.palette.items["keras.layers.Conv2D"]])
    assert bytes(mime.data("application/x-layerloom-node-type")).decode() == "keras.layers.Conv2D"
    assert tree.mimeData([window.palette.category_items["core"]]) is None
