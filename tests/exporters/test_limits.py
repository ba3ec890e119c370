"""The declared export limits are real: a graph a limit refuses is also refused (or would be
wrong) in the real converter, so the editor's badges tell the truth before anyone tries."""

from __future__ import annotations

import pytest

from layerloom.exporters.base import ExportError
from layerloom.nodes.compile import build_plan
from layerloom.nodes.export_support import refusals
from layerloom.nodes.graph import Graph
from layerloom.nodes.registry import default_registry
from tests.exporters.harness import run_exporter_case
from tests.nodes.builders import add, link


def chain(*layers: tuple[str, dict], shape: tuple) -> Graph:
    registry = default_registry()
    graph = Graph()
    previous = add(graph, registry, "keras.Input", "data", shape=shape)
    for index, (type_name, params) in enumerate(layers):
        node = add(graph, registry, type_name, f"{type_name.lower()}_{index}", **params)
        link(graph, previous, node)
        previous = node
    return graph


CASES = [
    ("tfjs", chain(("GRU", {"units": 4}), ("Dense", {"units": 2}), shape=(6, 3)), "gru_0"),
    (
        "tfjs",
        chain(("Dense", {"units": 4, "activation": "exponential"}), shape=(5,)),
        "dense_0",
    ),
    # Once drifted: the declaration left DepthwiseConv2D out, so the editor showed no badge.
    (
        "tfjs",
        chain(("DepthwiseConv2D", {"activation": "exponential"}), shape=(6, 6, 2)),
        "depthwiseconv2d_0",
    ),
    ("tflite", chain(("LSTM", {"units": 4}), shape=(None, 3)), "lstm_0"),
    (
        "tflite",
        chain(
            ("Resizing", {"height": 8, "width": 8, "interpolation": "bicubic"}),
            ("Flatten", {}),
            shape=(12, 12, 3),
        ),
        "resizing_0",
    ),
]


@pytest.mark.parametrize(
    ("target", "graph", "node"), CASES, ids=lambda v: getattr(v, "__name__", None)
)
def test_a_declared_limit_matches_the_real_converter(keras_session, tmp_path, target, graph, node):
    registry = default_registry()
    found = refusals(graph, registry, [target])
    assert [r.node_name for r in found] == [node]
    plan = build_plan(graph, registry, "limited")
    with pytest.raises(ExportError, match=node):
        run_exporter_case(target, plan, tmp_path / "out")


def test_a_quality_limit_matches_a_real_parity_failure(keras_session, tmp_path) -> None:
    """tf2onnx turns area resizing into nearest: it converts, and the numbers differ."""
    graph = chain(
        ("Resizing", {"height": 12, "width": 12, "interpolation": "area"}),
        ("Flatten", {}),
        shape=(8, 8, 3),
    )
    assert [r.node_name for r in refusals(graph, default_registry(), ["onnx"])] == ["resizing_0"]
    plan = build_plan(graph, default_registry(), "area")
    try:
        result = run_exporter_case("onnx", plan, tmp_path / "out")
    except ExportError as error:
        assert "resizing_0" in str(error)
    else:
        assert not result.passed


def test_the_accepted_variant_converts(keras_session, tmp_path) -> None:
    graph = chain(
        ("GRU", {"units": 4, "reset_after": False}), ("Dense", {"units": 2}), shape=(6, 3)
    )
    assert refusals(graph, default_registry(), ["tfjs"]) == []
    plan = build_plan(graph, default_registry(), "accepted")
    assert run_exporter_case("tfjs", plan, tmp_path / "out").passed
