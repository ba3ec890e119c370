"""The node-graph canvas, driven through its real widgets; assertions are on the domain graph."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from layerloom.app.gui.canvas import GraphView
from layerloom.app.gui.canvas.navigation import READABLE_ZOOM
from layerloom.nodes.edits import (
    AddNode,
    Composite,
    Connect,
    Disconnect,
    Move,
    RemoveNodes,
    Rename,
    SetParams,
)
from layerloom.nodes.graph import Edge, Node, new_id
from layerloom.nodes.layout import layered_positions
from tests.gui.canvas_helpers import (
    add,
    drag,
    link,
)
from tests.gui.helpers import png_dir


# --- layout and navigation ----------------------------------------------------------------------
def test_auto_layout_is_one_undo_step(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc)
    scattered = {
        n.id: (float(i * 37 % 300), float(i * 91 % 500)) for i, n in enumerate(doc.graph.nodes())
    }
    doc.push(Move(scattered))
    before = doc.undo_stack.count()

    view.auto_layout("lr")

    assert doc.undo_stack.count() == before + 1
    assert {n.id: n.pos for n in doc.graph.nodes()} == layered_positions(doc.graph)
    doc.undo_stack.undo()
    assert {n.id: n.pos for n in doc.graph.nodes()} == scattered

    view.auto_layout("tb")
    assert doc.undo_stack.count() == before + 1
    ys = sorted({n.pos[1] for n in doc.graph.nodes()})
    assert len(ys) == len(doc.graph)  # a chain laid out top to bottom: one node per layer


def test_zoom_fit_and_center_on(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc)
    zoom = view.zoom
    view.zoom_in()
    assert view.zoom > zoom
    view.zoom_out()
    view.zoom_out()
    assert view.zoom < zoom
    view.fit()
    # Fit never goes below readable; a graph longer than the view shows from its input.
    assert view.zoom >= READABLE_ZOOM
    first = next(n.id for n in doc.graph.nodes() if not doc.graph.in_edges(n.id))
    visible = view.visible_scene_rect()
    assert visible.contains(view.graph_scene.nodes[first].sceneBoundingRect())
    if view.zoom > READABLE_ZOOM:
        assert visible.contains(view.graph_scene.nodes_rect())
    last = next(n.id for n in doc.graph.nodes() if n.name == "classes")
    view.zoom_in()
    view.zoom_in()
    view.center_on(last)
    assert view.selected_node_ids() == [last]
    centre = view.visible_scene_rect().center()
    assert view.graph_scene.nodes[last].sceneBoundingRect().contains(centre)
    view.select_all()
    assert len(view.selected_node_ids()) == 9


def test_wheel_zooms_around_the_cursor_and_middle_drag_pans(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc)
    cursor = QPoint(300, 200)
    under = view.mapToScene(cursor)
    wheel = QWheelEvent(
        QPointF(cursor), QPointF(view.viewport().mapToGlobal(cursor)), QPoint(), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )  # fmt: skip
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom > 1.0
    after = view.mapToScene(cursor)
    assert abs(after.x() - under.x()) < 2 and abs(after.y() - under.y()) < 2

    before = view.visible_scene_rect().center()
    viewport = view.viewport()
    middle = Qt.MouseButton.MiddleButton
    QTest.mousePress(viewport, middle, Qt.KeyboardModifier.NoModifier, QPoint(400, 300))
    QTest.mouseMove(viewport, QPoint(300, 250))
    QTest.mouseRelease(viewport, middle, Qt.KeyboardModifier.NoModifier, QPoint(300, 250))
    moved = view.visible_scene_rect().center() - before
    assert moved.x() > 50 and moved.y() > 25  # content follows the hand: the view moves right

    # Space + left drag pans too, and does not start a rubber band or move nodes.
    view.setFocus()
    QTest.keyPress(view, Qt.Key.Key_Space)
    before = view.visible_scene_rect().center()
    drag(view, view.mapToScene(QPoint(300, 300)), view.mapToScene(QPoint(200, 300)))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert view.visible_scene_rect().center().x() > before.x() + 50
    assert doc.undo_stack.count() == 0


def test_minimap_appears_for_large_graphs_and_navigates(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc, size=(600, 400))
    view.graph_scene.refresh()
    assert view.minimap.isVisible()  # at 1:1 the 2000-unit chain does not fit in 600 px
    QTest.mouseClick(view.minimap, Qt.MouseButton.LeftButton, pos=QPoint(190, 65))
    last = next(n.id for n in doc.graph.nodes() if n.name == "classes")
    assert view.visible_scene_rect().intersects(view.graph_scene.nodes[last].sceneBoundingRect())
    view.fit()  # readable zoom: the chain is still longer than the view, so the map stays
    assert view.minimap.isVisible()
    for _ in range(12):
        view.zoom_out()
    assert not view.minimap.isVisible()


# --- mirroring ----------------------------------------------------------------------------------
def test_keyboard_duplicate_and_escape(documents, make_view):
    doc = documents()
    a = add(doc, "keras.Input", "a", shape=(8,))
    view = make_view(doc)
    view.select_nodes([a])
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert sorted(n.name for n in doc.graph.nodes()) == ["a", "a_1"]
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert view.selected_node_ids() == []


def test_scene_mirrors_edits_made_elsewhere(documents, make_view, qtbot):
    doc = documents()
    view = make_view(doc)
    scene = view.graph_scene
    image = add(doc, "keras.Input", "image", shape=(28, 28, 1))
    conv = add(doc, "Conv2D", "conv", (250, 0), filters=8, kernel_size=(3, 3))
    assert set(scene.nodes) == {image, conv}

    edge = link(doc, image, conv)
    assert (image, conv, "input") in scene.edges
    qtbot.waitUntil(lambda: scene.nodes[conv].shape_text == "(26, 26, 8)")
    assert scene.nodes[conv].params_text == "80 params"

    doc.push(SetParams(conv, {**doc.graph.node(conv).params, "filters": 4}))
    qtbot.waitUntil(lambda: scene.nodes[conv].shape_text == "(26, 26, 4)")
    doc.push(Rename(conv, "features"))
    assert scene.nodes[conv].name == "features"

    doc.push(Disconnect(edge))
    assert scene.edges == {}
    qtbot.waitUntil(lambda: scene.nodes[conv].badge.isVisible())
    assert "not connected" in scene.nodes[conv].badge.toolTip()

    doc.push(RemoveNodes([conv]))
    assert set(scene.nodes) == {image}
    doc.undo_stack.undo()
    assert set(scene.nodes) == {image, conv} and scene.nodes[conv].name == "features"


def test_a_thousand_node_graph_builds(documents, make_view, qtbot):
    doc = documents()
    view = make_view(doc)
    registry = doc.registry

    def node(type_id, name, **params):
        spec = registry[type_id]
        return Node(new_id(), spec.type_id, name, spec.normalize(params), (0.0, 0.0), spec.version)

    first = node("keras.Input", "input", shape=(16,))
    work, dense = [AddNode(first)], []
    previous = first
    for i in range(799):
        layer = node("keras.layers.Dense", f"dense_{i}", units=16)
        work += [AddNode(layer), Connect(Edge(previous.id, layer.id, "input"))]
        dense.append(layer)
        previous = layer
    for i in range(200):
        merge = node("keras.layers.Add", f"add_{i}")
        work += [
            AddNode(merge),
            Connect(Edge(dense[2 * i].id, merge.id, "in0")),
            Connect(Edge(dense[2 * i + 1].id, merge.id, "in1")),
        ]
    doc.push(Composite(work, text="Paste"))

    scene = view.graph_scene
    assert len(scene.nodes) == 1000 and len(scene.edges) == 1199
    qtbot.waitUntil(lambda: scene.nodes[merge.id].shape_text == "(16,)")
    assert not scene.smooth_edges  # big scenes draw aliased edges
    again = GraphView(doc)  # building from an existing graph gives the same picture
    qtbot.addWidget(again)
    assert len(again.graph_scene.nodes) == 1000 and len(again.graph_scene.edges) == 1199
    doc.undo_stack.undo()
    assert scene.nodes == {} and scene.edges == {}


# --- the look -----------------------------------------------------------------------------------
def test_render_small_cnn_to_png(documents, make_view, tmp_path):
    doc = documents("small_cnn", tmp_path / "x.loom")
    view = make_view(doc, size=(2300, 320))
    view.graph_scene.refresh()
    view.fit()
    out = png_dir()
    out.mkdir(exist_ok=True)
    image = view.grab()
    assert image.save(str(out / "canvas.png"))
    assert image.width() == 2300
