"""The batches an export needs: the held-out parity batch and int8 calibration examples.

Both come from the project's dataset through the same tf.data pipelines training uses (so images are
decoded and resized exactly as in training). Without a dataset, or without a validation split, the
parity batch is synthetic data of the right shapes and dtypes, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.training import output_kind


@dataclass
class Batches:
    sample: dict[str, np.ndarray]  # Input name -> batch
    representative: list[dict[str, np.ndarray]] = field(default_factory=list)
    source: str = "synthetic"  # where the parity batch came from: "validation", "test", "synthetic"
    class_names: list[str] | None = None
    task: str = "classification"


def synthetic(plan: BuildPlan, size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs of the plan's shapes: integers in [0, 10) for integer Inputs (token ids),
    standard normal values otherwise; an unknown dimension becomes 8."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for item in plan.inputs:
        shape = (size, *[8 if d is None else int(d) for d in item.shape])
        if "int" in item.dtype:
            out[item.name] = rng.integers(0, 10, size=shape).astype(item.dtype)
        else:
            out[item.name] = rng.standard_normal(shape).astype(item.dtype)
    return out


def _as_inputs(plan: BuildPlan, x: Any) -> dict[str, np.ndarray]:
    if isinstance(x, dict):
        return {name: np.asarray(value) for name, value in x.items()}
    return {plan.inputs[0].name: np.asarray(x)}


def _task_without_data(plan: BuildPlan) -> str:
    return "classification" if output_kind(plan) in ("multiclass", "binary") else "regression"


def collect(
    plan: BuildPlan,
    dataset: dict[str, Any] | None,
    base_dir: str | None,
    *,
    size: int = 32,
    calibration: int = 0,
    seed: int = 0,
) -> Batches:
    """The parity batch (``size`` examples) and ``calibration`` training examples (batches of 1)."""
    if dataset is None:
        return Batches(synthetic(plan, size, seed), task=_task_without_data(plan))
    from layerloom.nodes.datasets import make_pipelines, open_source

    source = open_source(dataset, base_dir)
    data = make_pipelines(source, plan, batch_size=size, seed=seed)
    batches = Batches({}, class_names=data.class_names, task=data.task)
    for split in ("validation", "test"):
        pipeline = getattr(data, split)
        if pipeline is not None:
            for x, _ in pipeline.take(1):
                batches.sample, batches.source = _as_inputs(plan, x), split
            break
    if not batches.sample:
        batches.sample = synthetic(plan, size, seed)
    if calibration > 0:
        for x, _ in data.train.unbatch().batch(1).take(calibration):
            batches.representative.append(_as_inputs(plan, x))
    return batches
