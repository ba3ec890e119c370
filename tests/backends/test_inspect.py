"""Inspect: every node's figures are Keras' own intermediate outputs, for every template.

Each template is built with its seeded initial weights and fed two examples of its own sample
data; the worker's figures (one sub-model over every layer) are held against a separate Keras
sub-model per node and NumPy statistics of its output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from layerloom.backends.activation_stats import map_grid, node_statistics, preview
from layerloom.backends.keras_inspect import describe_nodes, layer_outputs
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import open_source
from layerloom.nodes.datasets.specs import sample_for_template
from layerloom.nodes.keras_build import build_model
from layerloom.nodes.png import decode_png_gray, encode_png
from layerloom.nodes.templates import list_templates, load_template

TEMPLATES = [info.name for info in list_templates()]
STATISTICS = ("min", "max", "mean", "std", "zero_fraction", "nonfinite_fraction")


def close(got: float | None, want: float | None) -> bool:
    if want is None or got is None:
        return got is want
    # within 1e-5, relative where the magnitude is above 1
    return abs(got - want) <= 1e-5 * max(1.0, abs(want))


def test_statistics_are_over_finite_values():
    values = np.array([[0.0, 1.0, np.nan], [3.0, np.inf, 0.0]], dtype=np.float32)
    stats = node_statistics(values)
    finite = np.array([0.0, 1.0, 3.0, 0.0])
    assert stats["min"] == 0.0 and stats["max"] == 3.0
    assert stats["mean"] == pytest.approx(finite.mean())
    assert stats["std"] == pytest.approx(finite.std())
    assert stats["zero_fraction"] == pytest.approx(2 / 6)
    assert stats["nonfinite_fraction"] == pytest.approx(2 / 6)
    nothing = node_statistics(np.array([np.nan, np.inf]))
    assert nothing["mean"] is None and nothing["nonfinite_fraction"] == 1.0


def test_map_grid_and_png_round_trip():
    maps = np.zeros((4, 5, 3), dtype=np.float32)
    maps[1, 2, 0] = 7.0  # one bright pixel in the first map
    maps[:, :, 1] = np.arange(20).reshape(4, 5)
    grid = map_grid(maps)
    assert grid.shape == (2 * 4 + 1, 2 * 5 + 1)  # 3 maps in a 2x2 grid, 1-pixel gaps
    assert grid[1, 2] == 255 and grid[0, 0] == 0
    assert grid[3, 6 + 4] == 255  # the second map's largest value, bottom right
    assert (decode_png_gray(encode_png(grid)) == grid).all()
    assert preview(np.arange(3.0), ["a", "b", "c"], head=True)["items"][0] == ["c", 2.0]
    assert preview(np.arange(200.0))["kind"] == "histogram"


@pytest.mark.keras
@pytest.mark.parametrize("template", TEMPLATES)
def test_figures_equal_keras_intermediate_outputs(template, keras_session, registry):
    keras = keras_session
    plan = build_plan(load_template(template, registry), registry)
    source = open_source(sample_for_template(template))
    fitted = source.fit(plan)
    inputs = [fitted.inputs[item.name][:2] for item in plan.inputs]
    keras.utils.set_random_seed(7)
    model = build_model(plan)
    nodes = describe_nodes(plan, inputs, layer_outputs(model, plan, inputs), {"previews": True})
    assert [n["node"] for n in nodes] == [i.name for i in plan.inputs] + [
        step.name for step in plan.layers
    ]
    for record, step in zip(nodes[len(plan.inputs) :], plan.layers, strict=True):
        output = model.get_layer(step.name).output
        output = output[0] if isinstance(output, (list, tuple)) else output
        alone = keras.Model(model.inputs, output)
        want = np.asarray(alone.predict(list(inputs), verbose=0))
        assert record["shape"] == list(want.shape[1:]), step.name
        expected = node_statistics(want)
        for name in STATISTICS:
            assert close(record[name], expected[name]), (template, step.name, name)
        assert record["type"] == step.type_id
        assert record["preview"]["kind"] in ("maps", "bars", "histogram", "topk")
    for record, given in zip(nodes, inputs, strict=False):
        assert math.isclose(record["mean"], float(np.mean(given, dtype=np.float64)), rel_tol=1e-6)
