"""Freezing in the editor, driven through the real widgets: the inspector's Trainable checkbox on a
selection (one undo step), the node context menu, the status bar's split and the frozen look."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from layerloom.app.gui.canvas.frozen import node_menu
from layerloom.app.gui.session import untitled_document
from layerloom.nodes.freezing import BATCH_NORM_NOTE
from tests.gui.helpers import node_named, png_dir


def click(qtbot, check) -> None:
    """A click on the box's indicator, where a user clicks (the widget may be wider)."""
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=QPoint(8, check.height() // 2))


def trainable(doc) -> dict[str, bool]:
    return {n.name: n.trainable for n in doc.graph.nodes()}


def test_trainable_checkbox_on_a_selection_is_one_undo_step(make_window, qtbot):
    window, _ = make_window(untitled_document("residual_cnn"))
    window.resize(1400, 800)
    window.show()
    qtbot.waitExposed(window)
    doc = window.document
    ids = [node_named(doc, name).id for name in ("stem", "stem_bn", "image")]
    window.view.select_nodes(ids)
    box = window.inspector.selection_trainable
    assert window.inspector.pages.currentIndex() == 0 and box.isVisible()
    assert set(box.node_ids) == set(ids[:2])  # the Input has no weights to freeze
    assert box.check.checkState() == Qt.CheckState.Checked
    assert BATCH_NORM_NOTE in box.note.text()  # a BatchNormalization is in the selection
    before = doc.undo_stack.count()

    click(qtbot, box.check)

    assert not trainable(doc)["stem"] and not trainable(doc)["stem_bn"]
    assert doc.undo_stack.count() == before + 1
    assert doc.undo_stack.undoText() == "Freeze 2 nodes"
    assert window.view.graph_scene.nodes[ids[0]].frozen
    window.update_status()
    window.view.graph_scene.refresh()
    qtbot.wait(50)  # the status bar and the inspector lay their new text out
    assert window.grab().save(str(png_dir() / "window_frozen_selection.png"))
    assert "trainable" in window.params_label.text() and "frozen" in window.params_label.text()
    window.act.undo.trigger()
    assert trainable(doc)["stem"] and trainable(doc)["stem_bn"]
    assert not window.view.graph_scene.nodes[ids[0]].frozen
    assert box.check.checkState() == Qt.CheckState.Checked  # the box follows undo

    doc.graph.set_trainable(ids[0], False)  # a partly frozen selection: partially checked
    assert box.check.checkState() == Qt.CheckState.PartiallyChecked
    click(qtbot, box.check)
    assert trainable(doc)["stem"] and trainable(doc)["stem_bn"]


def test_single_node_checkbox_and_the_frozen_note(make_window, qtbot):
    window, _ = make_window(untitled_document("residual_cnn"))
    doc = window.document
    bn = node_named(doc, "block_bn_1")
    window.view.select_nodes([bn.id])
    box = window.inspector.trainable
    assert window.inspector.node_id == bn.id and box.isVisibleTo(window.inspector)
    click(qtbot, box.check)
    assert not doc.graph.node(bn.id).trainable
    assert doc.undo_stack.undoText() == "Freeze block_bn_1"
    assert "Frozen" in box.note.text() and "inference mode" in box.note.text()
    window.inspector.resize(320, 600)
    qtbot.wait(50)
    assert window.inspector.grab().save(str(png_dir() / "inspector_frozen_bn.png"))
    window.inspector.show_node(node_named(doc, "image").id)
    assert not box.isVisibleTo(window.inspector)  # an Input: nothing to freeze


def test_context_menu_freezes_unfreezes_and_freezes_all_others(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc)
    scene = view.graph_scene
    head = node_named(doc, "classes").id
    menu = node_menu(scene, [head])
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Freeze classes", "Unfreeze classes", "Freeze All Others"]
    assert [a.isEnabled() for a in menu.actions()] == [True, False, True]

    menu.actions()[2].trigger()  # train only the head
    frozen = {n.name for n in doc.graph.nodes() if not n.trainable}
    assert frozen == {"rescale", "conv_1", "pool_1", "conv_2", "pool_2", "flatten", "dropout"}
    assert doc.undo_stack.undoText() == "Train only classes"
    menu = node_menu(scene, [head])  # kept: the menu owns its actions
    menu.actions()[0].trigger()
    assert not doc.graph.node(head).trainable
    menu = node_menu(scene, [head])
    menu.actions()[1].trigger()
    assert doc.graph.node(head).trainable
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert all(n.trainable for n in doc.graph.nodes())


def test_frozen_nodes_are_drawn_muted_with_a_lock(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc, size=(2300, 320))
    for name in ("conv_1", "pool_1", "conv_2"):
        doc.graph.set_trainable(node_named(doc, name).id, False)
    view.graph_scene.refresh()
    view.fit()
    image = view.grab()
    assert image.save(str(png_dir() / "canvas_frozen.png"))
    picture = image.toImage()

    def body_colour(name: str) -> QColor:
        item = view.graph_scene.nodes[node_named(doc, name).id]
        rect = item.sceneBoundingRect()
        point = view.mapFromScene(rect.left() + 4, rect.bottom() - 6)  # below the text
        return picture.pixelColor(point.x(), point.y())

    frozen, live = body_colour("conv_2"), body_colour("flatten")
    assert frozen != live
    assert "Frozen" in view.graph_scene.nodes[node_named(doc, "conv_2").id].toolTip()
