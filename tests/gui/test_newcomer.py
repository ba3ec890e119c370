"""The window a newcomer meets: a large canvas and usable Training panel, File ▸ New keeping
them, an empty canvas that says what to do, fitted readable graphs, and the graph as a picture."""

from __future__ import annotations

from PySide6.QtCore import Qt

from layerloom.app.gui.canvas.navigation import READABLE_ZOOM
from layerloom.app.gui.graph_image import export_graph_image
from layerloom.app.gui.session import untitled_document
from tests.gui.helpers import png_dir


def _settle(qtbot, window):
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(30)  # the dock sizes apply after the first layout pass


def test_first_layout_gives_the_canvas_and_training_room(make_window, qtbot):
    window, prompts = make_window(untitled_document("residual_cnn"))
    _settle(qtbot, window)
    window.show_training()
    qtbot.wait(30)
    line = window.fontMetrics().height()
    assert window.view.height() >= 0.45 * window.height()
    assert window.docks["training"].height() >= line * 14
    assert window.view.zoom >= READABLE_ZOOM  # fitted on open, text readable
    window.grab().save(str(png_dir() / "newcomer-first-layout.png"))
    height = window.view.height()
    prompts.save_changes.append("discard")
    assert window.new_document("mlp_classifier")
    qtbot.wait(30)
    assert window.view.height() >= height - 2  # File ▸ New keeps the canvas's room


def test_a_squeezed_saved_layout_is_repaired(make_window, qtbot):
    window, prompts = make_window(untitled_document("mlp_classifier"))
    _settle(qtbot, window)
    window.resizeDocks([window.docks["problems"]], [40], Qt.Orientation.Vertical)
    window._repair_layout()
    qtbot.wait(30)
    assert window.docks["problems"].height() >= window.fontMetrics().height() * 8


def test_empty_canvas_hint_offers_a_template(make_window, qtbot):
    window, prompts = make_window(untitled_document())
    _settle(qtbot, window)
    hint = window.view.empty_hint
    assert hint.isVisible() and "Layers" in hint.text()
    window.grab().save(str(png_dir() / "newcomer-empty-canvas.png"))
    prompts.templates.append("mlp_classifier")
    hint.linkActivated.emit("template")
    assert prompts.asked == ["template"]
    assert len(window.document.graph) > 0
    qtbot.waitUntil(lambda: not window.view.empty_hint.isVisible(), timeout=2000)


def test_export_graph_image_png_and_svg(make_window, qtbot, tmp_path):
    window, prompts = make_window(untitled_document("residual_cnn"))
    assert any(
        a.text() == "Export &Graph Image…" for a in window.menuBar().actions()[0].menu().actions()
    )
    png = export_graph_image(window, tmp_path / "graph.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    svg = export_graph_image(window, tmp_path / "graph.svg")
    assert "<svg" in svg.read_text()
    assert export_graph_image(window, tmp_path / "graph.gif") is None
    assert prompts.errors and ".png or .svg" in prompts.errors[0][1]


def test_skip_edges_go_around_cards_and_above_them(make_window, qtbot):
    window, _ = make_window(untitled_document("residual_cnn"))
    scene = window.view.graph_scene
    for direction in ("lr", "tb"):
        window.view.auto_layout(direction)
        for edge in scene.edges.values():
            ends = {edge.src_item, edge.dst_item}
            for card in scene.nodes.values():
                if card not in ends:
                    assert not edge.shape().intersects(card.sceneBoundingRect()), (
                        direction,
                        edge.key,
                        card.node.name,
                    )
            assert edge.zValue() > max(c.zValue() for c in ends)
    window.view.grab().save(str(png_dir() / "newcomer-residual-tb.png"))
