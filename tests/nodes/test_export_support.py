"""Export limits: a node spec says which targets refuse it, the graph reports which nodes block
which targets, before any converter runs (pure Python, no TensorFlow)."""

from __future__ import annotations

from dataclasses import replace

from layerloom.nodes.export_support import TARGET_KEYS, refusals
from layerloom.nodes.graph import Graph
from layerloom.nodes.registry import Registry, default_registry
from tests.nodes.builders import add, link


def registry_with_limits() -> Registry:
    """The real catalog, with two limits of the two kinds (fixed, and shape-dependent) made sure."""

    def fixed_length(params, shapes):
        return "needs a fixed sequence length" if shapes and shapes[0][0] is None else None

    base = default_registry()
    specs = []
    for spec in base:
        if spec.type_id == "keras.layers.MultiHeadAttention":
            spec = replace(spec, export_limits={**spec.export_limits, "tfjs": "not in tfjs"})
        if spec.type_id == "keras.layers.LSTM":
            spec = replace(spec, export_limits={**spec.export_limits, "tflite": fixed_length})
        specs.append(spec)
    return Registry(specs)


def lstm_graph(registry: Registry, steps: int | None) -> tuple[Graph, str]:
    graph = Graph()
    source = add(graph, registry, "keras.Input", "seq", shape=(steps, 3))
    lstm = add(graph, registry, "LSTM", "lstm", units=4)
    link(graph, source, lstm)
    return graph, lstm


def test_a_shape_dependent_limit_follows_the_graph() -> None:
    registry = registry_with_limits()
    graph, lstm = lstm_graph(registry, None)
    found = refusals(graph, registry)
    assert [(r.node_id, r.key) for r in found] == [(lstm, "tflite")]
    assert found[0].message == (
        "node 'lstm' (LSTM) cannot go to TF Lite: needs a fixed sequence length"
    )
    fixed, _ = lstm_graph(registry, 12)
    assert refusals(fixed, registry) == []


def test_only_the_asked_keys_are_checked() -> None:
    registry = registry_with_limits()
    graph, _ = lstm_graph(registry, None)
    assert refusals(graph, registry, keys=["onnx", "tfjs"]) == []


def test_every_declared_limit_uses_a_known_target_key() -> None:
    for spec in default_registry():
        unknown = set(spec.export_limits) - set(TARGET_KEYS)
        assert not unknown, f"{spec.type_id} limits unknown targets {unknown}"


def token_graph(registry: Registry, mask_zero: bool, *, sequences: bool | None) -> Graph:
    """ids -> Embedding [-> LSTM(return_sequences)] -> GlobalAveragePooling1D -> Dense."""
    graph = Graph()
    ids = add(graph, registry, "keras.Input", "ids", shape=(6,), dtype="int32")
    embed = add(graph, registry, "Embedding", "embed", input_dim=20, output_dim=4,
                mask_zero=mask_zero)  # fmt: skip
    last = embed
    link(graph, ids, embed)
    if sequences is not None:
        lstm = add(graph, registry, "LSTM", "lstm", units=4, return_sequences=sequences)
        link(graph, last, lstm)
        last = lstm
    if sequences is not False:
        pooled = add(graph, registry, "GlobalAveragePooling1D", "pooled")
        link(graph, last, pooled)
        last = pooled
    head = add(graph, registry, "Dense", "head", units=2)
    link(graph, last, head)
    return graph


def test_tfjs_refuses_the_node_that_would_mishandle_a_padding_mask() -> None:
    registry = default_registry()
    masked = token_graph(registry, True, sequences=None)
    found = [r for r in refusals(masked, registry) if r.key == "tfjs"]
    assert [r.message for r in found] == [
        "node 'pooled' (GlobalAveragePooling1D) cannot go to TF.js: TF.js does not apply the "
        "padding mask of 'embed' (Embedding mask_zero=True) here as Keras does"
    ]
    # The mask travels through a recurrent layer that returns sequences, to the pooling.
    through = token_graph(registry, True, sequences=True)
    assert [r.node_name for r in refusals(through, registry, ["tfjs"])] == ["pooled"]


def test_tfjs_takes_a_padding_mask_that_a_recurrent_layer_consumes() -> None:
    registry = default_registry()
    assert refusals(token_graph(registry, True, sequences=False), registry, ["tfjs"]) == []
    assert refusals(token_graph(registry, False, sequences=None), registry, ["tfjs"]) == []
