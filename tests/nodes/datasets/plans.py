"""Small BuildPlans for dataset tests: one or more Inputs into one Dense output (no TensorFlow)."""

from __future__ import annotations

from functools import cache

from layerloom.nodes.compile import build_plan
from layerloom.nodes.plan import BuildPlan, PlanInput, PlanLayer
from layerloom.nodes.registry import default_registry
from layerloom.nodes.templates import load_template


def dense_plan(
    *inputs: tuple[str, list[int | None]] | tuple[str, list[int | None], str],
    units: int | None = 3,
    activation: str = "softmax",
) -> BuildPlan:
    """Inputs ``(name, shape[, dtype])`` feeding an output Dense named ``out`` (or a Flatten)."""
    plan_inputs = [PlanInput(i[0], list(i[1]), i[2] if len(i) > 2 else "float32") for i in inputs]
    config = {"units": units, "activation": activation} if units is not None else {}
    layer = PlanLayer(
        name="out",
        type_id="keras.layers.Dense" if units is not None else "keras.layers.Flatten",
        class_name="Dense" if units is not None else "Flatten",
        config=config,
        call="",
        inputs=[(f"in{n}", i.name) for n, i in enumerate(plan_inputs)],
    )
    return BuildPlan(name="test", inputs=plan_inputs, layers=[layer], outputs=["out"])


@cache
def template_plan(name: str) -> BuildPlan:
    registry = default_registry()
    return build_plan(load_template(name, registry), registry, name)
