"""``nodes.keras_import.convert`` on hand-written configs: pure Python, no TensorFlow."""

from __future__ import annotations

import pytest

from layerloom.nodes.analysis import Analysis
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.keras_import import convert
from layerloom.nodes.registry import default_registry


def _input(name: str, shape: list) -> dict:
    return {
        "class_name": "InputLayer",
        "name": name,
        "config": {"name": name, "batch_input_shape": [None, *shape], "dtype": "float32"},
        "inbound_nodes": [],
    }


def _layer(class_name: str, name: str, sources: list[str], module=None, **config) -> dict:
    # Keras 2's form (legacy .h5): inbound nodes as [[layer, call, index, kwargs], ...]
    return {
        "class_name": class_name,
        "module": module,
        "name": name,
        "config": {"name": name, **config},
        "inbound_nodes": [[[source, 0, 0, {}] for source in sources]],
    }


def _model(layers: list[dict], inputs: list[str], outputs: list[str]) -> dict:
    return {
        "class_name": "Model",
        "config": {
            "name": "legacy",
            "layers": layers,
            "input_layers": [[name, 0, 0] for name in inputs],
            "output_layers": [[name, 0, 0] for name in outputs],
        },
    }


def test_keras2_config_with_custom_class_and_unmappable_option() -> None:
    config = _model(
        [
            _input("image", [8, 8, 3]),
            _layer(
                "Conv2D",
                "conv",
                ["image"],
                filters=4,
                kernel_size=[3, 3],
                padding="same",
                kernel_regularizer={"class_name": "L2", "config": {"l2": 0.01}},
            ),
            _layer("Conv2D", "channels_first", ["conv"], filters=4, data_format="channels_first"),
            _layer("Swish2", "custom", ["conv"], module="my_package.layers"),
            _layer("Add", "sum", ["channels_first", "custom"]),
        ],
        ["image"],
        ["sum"],
    )
    converted = convert(config, default_registry(), counts={"custom": 7})
    graph = converted.graph
    assert graph.node(graph.by_name("conv").id).params["padding"] == "same"
    assert "conv: its kernel_regularizer was dropped (it only shapes training)" in converted.notes
    found = {(p.node, p.class_name): p.reason for p in converted.placeholders}
    assert found[("channels_first", "Conv2D")] == (
        "its option data_format='channels_first' has no equivalent in the node"
    )
    assert found[("custom", "Swish2")] == "no node type for the Keras class Swish2"
    # A placeholder without a recorded shape stops shapes downstream, by name; one with a count
    # keeps it.
    analysis = Analysis(graph, default_registry())
    assert analysis.param_count(graph.by_name("custom").id) is None
    assert (
        "output shape was not recorded"
        in analysis.node_problems(graph.by_name("custom").id)[0].message
    )
    analysis.close()


def test_names_are_made_node_names_and_outputs_kept_in_order() -> None:
    config = _model(
        [
            _input("in", [4]),
            _layer("Dense", "dense/1", ["in"], units=3),
            _layer("Dense", "b", ["dense/1"], units=2),
            _layer("Dense", "a", ["dense/1"], units=1),
        ],
        ["in"],
        ["b", "a"],
    )
    converted = convert(config, default_registry())
    assert converted.outputs == ["b", "a"]
    assert {n.name for n in converted.graph.nodes()} == {"in", "dense_1", "b", "a"}
    assert any("'dense/1' is named 'dense_1'" in note for note in converted.notes)
    # Branches side by side, one row below their source.
    pos = {n.name: n.pos for n in converted.graph.nodes()}
    assert pos["a"][1] == pos["b"][1] > pos["dense_1"][1] and pos["a"][0] != pos["b"][0]


def test_not_a_model_is_refused() -> None:
    with pytest.raises(LayerloomError, match="not a functional or sequential model"):
        convert({"class_name": "Dense", "config": {}}, default_registry())
