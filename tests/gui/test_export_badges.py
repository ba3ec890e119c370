"""Export compatibility in the editor: a badge on each node a target refuses, the Problems panel's
export notes, kept up to date through edits, removal and undo (no TensorFlow here)."""

from __future__ import annotations

from layerloom.nodes.edits import RemoveNodes, SetParams
from tests.gui.export_helpers import (
    HIGH_RATE_REASON,
    WIDE_REASON,
    limited_capabilities,
    limited_document,
)
from tests.gui.helpers import node_named, png_dir


def set_param(document, name, **changes):
    node = node_named(document, name)
    document.push(SetParams(node.id, {**node.params, **changes}))
    return node.id


def test_a_badge_follows_a_param_that_decides_a_refusal_through_undo_and_redo(make_window, qtbot):
    document = limited_document()
    window, prompts = make_window(document)
    scene = window.view.graph_scene
    dropout = node_named(document, "dropout").id
    item = scene.nodes[dropout]
    assert not item.export_badge.isVisible()
    assert window.problems.export_lines() == []

    # rate 0.7: refused by TF Lite and TF.js. The rate changes no shape and no parameter count,
    # so the analysis logs nothing for it: the badge must still appear.
    set_param(document, "dropout", rate=0.7)
    qtbot.waitUntil(lambda: item.export_badge.isVisible())
    assert item.export_badge.keys == ("tflite", "tfjs")
    assert item.export_badge.text == "⊘ TFL JS"
    tooltip = item.export_badge.toolTip()
    assert "node 'dropout' (Dropout) cannot go to TF Lite: " + HIGH_RATE_REASON in tooltip
    assert "cannot go to TF.js" in tooltip
    assert "cannot go to TF.js" in item.toolTip()  # the card's own tooltip says it too
    # the Problems panel lists what the graph cannot reach, as notes, not as problems
    qtbot.waitUntil(lambda: len(window.problems.export_lines()) == 2)
    assert window.problems.export_lines()[0].startswith("Export: node 'dropout' (Dropout)")
    assert window.problems.lines() == []
    window.update_status()
    assert window.problems_button.text() == "✓ compiles"

    set_param(document, "dropout", rate=0.3)  # accepted again
    qtbot.waitUntil(lambda: not item.export_badge.isVisible())
    qtbot.waitUntil(lambda: window.problems.export_lines() == [])

    document.undo_stack.undo()  # back to 0.7
    qtbot.waitUntil(lambda: item.export_badge.isVisible())
    document.undo_stack.undo()  # back to the template's 0.2
    qtbot.waitUntil(lambda: not item.export_badge.isVisible())
    document.undo_stack.redo()
    qtbot.waitUntil(lambda: item.export_badge.isVisible())
    assert prompts.errors == []


def test_removing_a_refused_node_removes_its_badge_and_undo_brings_it_back(make_window, qtbot):
    document = limited_document()
    window, _ = make_window(document)
    scene = window.view.graph_scene
    hidden = set_param(document, "hidden_1", units=128)  # too wide for ONNX
    qtbot.waitUntil(lambda: scene.nodes[hidden].export_badge.isVisible())
    assert scene.nodes[hidden].export_badge.text == "⊘ ONNX"
    assert WIDE_REASON in scene.nodes[hidden].export_badge.toolTip()
    assert list(scene.export_compat.unreachable()) == ["onnx"]

    document.push(RemoveNodes([hidden]))
    qtbot.waitUntil(lambda: scene.export_compat.refusals() == [])
    assert hidden not in scene.nodes
    qtbot.waitUntil(lambda: window.problems.export_lines() == [])

    document.undo_stack.undo()  # a new card for the restored node, with its badge
    qtbot.waitUntil(lambda: hidden in scene.nodes and scene.nodes[hidden].export_badge.isVisible())
    assert len(window.problems.export_lines()) == 1


def test_a_refusal_that_depends_on_an_input_shape_follows_upstream_edits(documents, qtbot):
    """Dense's limit here reads its input width: editing the Input re-decides the Dense below it
    even though the Dense's own output shape does not change."""
    from layerloom.app.gui.export_compat import compatibility

    def wide_input(_params, shapes):
        return "inputs wider than 30 (test limit)" if shapes and shapes[0][-1] > 30 else None

    document = limited_document(limited_capabilities({"onnx": wide_input}))
    compat = compatibility(document)
    hidden_1 = node_named(document, "hidden_1").id
    assert compat.node_refusals(hidden_1) == ()
    set_param(document, "features", shape=(40,))
    qtbot.waitUntil(lambda: compat.node_refusals(hidden_1) != ())
    assert compat.node_refusals(hidden_1)[0].reason == "inputs wider than 30 (test limit)"
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: compat.node_refusals(hidden_1) == ())
    document.close()


def test_edits_of_nodes_without_limits_do_not_rescan_the_graph(documents, qtbot):
    from layerloom.app.gui.export_compat import compatibility

    document = limited_document(limited_capabilities(dense_limits={}))  # only Dropout has limits
    compat = compatibility(document)
    scans = compat.scans
    set_param(document, "classes", units=5)  # a Dense at the end: nothing limited downstream
    compat.refresh()
    assert compat.scans == scans
    set_param(document, "dropout", rate=0.9)
    compat.refresh()
    assert compat.scans == scans + 1
    assert [r.key for r in compat.refusals()] == ["tflite", "tfjs"]
    document.close()


def test_a_padding_mask_badges_the_downstream_node_that_tfjs_would_mishandle(make_window, qtbot):
    """The rule spans nodes: turning on the Embedding's mask badges the pooling after it."""
    from layerloom.app.gui.document import Document
    from layerloom.nodes.registry import default_registry
    from tests.nodes.test_export_support import token_graph

    registry = default_registry()
    document = Document(registry=registry)
    source = token_graph(registry, False, sequences=None)
    for node in source.nodes():
        document.graph.add_node(node)
    for edge in source.edges():
        document.graph.connect(edge)
    window, prompts = make_window(document)
    window.resize(1100, 500)
    window.show()
    window.view.auto_layout()
    window.view.fit()
    pooled = window.view.graph_scene.nodes[node_named(document, "pooled").id]
    assert not pooled.export_badge.isVisible()

    set_param(document, "embed", mask_zero=True)
    qtbot.waitUntil(lambda: pooled.export_badge.isVisible())
    assert pooled.export_badge.keys == ("tfjs",)
    assert "padding mask of 'embed'" in pooled.export_badge.toolTip()
    window.grab().save(str(png_dir() / "mask_badge.png"))

    document.undo_stack.undo()
    qtbot.waitUntil(lambda: not pooled.export_badge.isVisible())
    assert prompts.errors == []
