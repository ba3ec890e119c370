"""Every starter template compiles to Keras with the shapes and parameter counts the graph reports."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layerloom.nodes.analysis import Analysis
from layerloom.nodes.compile import build_plan
from layerloom.nodes.keras_build import build_model
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.templates import list_templates, load_template

GOLDEN = Path(__file__).parent / "golden" / "plans"
TEMPLATES = [t.name for t in list_templates()]


def test_the_promised_templates_exist() -> None:
    expected = {
        "mlp_classifier",
        "small_cnn",
        "residual_cnn",
        "lstm_sequence",
        "dense_autoencoder",
        "transformer_encoder",
    }
    assert expected <= set(TEMPLATES)
    assert all(t.description for t in list_templates())


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_is_valid_and_plan_matches_golden(registry, name: str) -> None:
    graph = load_template(name, registry)
    assert Analysis(graph, registry).problems() == []
    plan = build_plan(graph, registry, name)
    golden = GOLDEN / f"{name}.json"
    if os.environ.get("LAYERLOOM_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(plan.to_json(), indent=1) + "\n")
    assert plan.to_json() == json.loads(golden.read_text()), (
        f"BuildPlan of {name} changed; if intended, rerun with LAYERLOOM_UPDATE_GOLDEN=1"
    )
    assert BuildPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


@pytest.mark.keras
@pytest.mark.parametrize("name", TEMPLATES)
def test_template_compiles_to_matching_keras_model(registry, keras_session, name: str) -> None:
    graph = load_template(name, registry)
    analysis = Analysis(graph, registry)
    model = build_model(build_plan(graph, registry, name))
    assert model.count_params() == analysis.total_params
    outputs = [graph.node(i) for i in analysis.outputs()]
    for tensor, node in zip(model.outputs, outputs, strict=True):
        assert tuple(tensor.shape[1:]) == analysis.shape(node.id)
    layer_names = {layer.name for layer in model.layers}
    assert {n.name for n in graph.nodes()} == layer_names
    for node in graph.nodes():
        count = analysis.param_count(node.id)
        assert model.get_layer(node.name).count_params() == count, node.name
