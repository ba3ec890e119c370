"""Export limits: a node spec says which targets refuse it, the graph reports which nodes block
which targets, before any converter runs (pure Python, no TensorFlow)."""

from __future__ import annotations

from dataclasses import replace

from nodes.export_support import TARGET_KEYS, refusals
from nodes.graph import Graph
from nodes.registry import Registry, default_registry
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
