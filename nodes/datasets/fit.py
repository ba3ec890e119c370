"""Whether data fits a BuildPlan: example shapes against the Input nodes, the target against the
output layer's units, and which task (classification, regression, reconstruction) the pair means.

All messages are one line and start with the data's name, so the user knows which file to open.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan, PlanInput
from layerloom.nodes.spec import format_shape

# Integer-valued numeric targets with at most this many distinct values can be read as classes.
MAX_CLASSES = 1000


@dataclass(frozen=True)
class OutputInfo:
    name: str
    units: int | None  # None when the output layer has no "units" (not a Dense)
    activation: str | None


@dataclass(frozen=True)
class Target:
    """A source's target column/array before the plan decides how to read it."""

    numbers: np.ndarray | None = None  # float64 (n, k) when numeric
    labels: np.ndarray | None = None  # int64 (n,) class indices when readable as classes
    class_names: list[str] | None = None
    text: bool = False  # labels came from text: only classification makes sense
    task: str | None = None  # fixed by the source (samples, reconstruction)


def output_of(plan: BuildPlan) -> OutputInfo:
    if len(plan.outputs) != 1:
        names = ", ".join(plan.outputs) or "none"
        raise DatasetError(
            f"the model has {len(plan.outputs)} outputs ({names}); a dataset feeds one"
        )
    name = plan.outputs[0]
    layer = next((item for item in plan.layers if item.name == name), None)
    config = layer.config if layer else {}
    activation = config.get("activation")
    return OutputInfo(
        name, config.get("units"), activation if isinstance(activation, str) else None
    )


def check_input(plan_input: PlanInput, shape: tuple[int, ...] | list[int], what: str) -> None:
    """``what`` describes the data side, e.g. "data.csv has 19 feature columns"."""
    expected = plan_input.shape
    fits = len(shape) == len(expected) and all(
        e is None or e == s for e, s in zip(expected, shape, strict=True)
    )
    if not fits:
        raise DatasetError(f"{what} but Input '{plan_input.name}' expects {format_shape(expected)}")


def check_integer_input(plan_input: PlanInput, values: np.ndarray, where: str) -> None:
    """An int Input (token ids) cannot take fractions; casting would silently truncate them."""
    if "int" in plan_input.dtype and values.dtype.kind == "f":
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise DatasetError(
                f"{where} holds fractional values but Input '{plan_input.name}' is {plan_input.dtype}"
            )


def target_from_values(values: np.ndarray) -> Target:
    """Text → class indices with sorted names; integer-valued numbers → also readable as classes."""
    if values.dtype.kind in "USO":
        names, labels = np.unique(values.astype(str), return_inverse=True)
        return Target(
            labels=labels.astype(np.int64), class_names=[str(n) for n in names], text=True
        )
    numbers = values.astype(np.float64).reshape(len(values), -1)
    target = Target(numbers=numbers)
    if (
        numbers.shape[1] > 1
        and np.all((numbers == 0) | (numbers == 1))
        and np.all(numbers.sum(1) == 1)
    ):
        # One-hot rows are classes; the pipelines yield indices (sparse labels) either way.
        names = [str(i) for i in range(numbers.shape[1])]
        return Target(labels=numbers.argmax(axis=1), class_names=names)
    if numbers.shape[1] == 1 and np.all(numbers == np.round(numbers)):
        unique, labels = np.unique(numbers[:, 0], return_inverse=True)
        if len(unique) <= MAX_CLASSES:
            names = [str(int(v)) for v in unique]
            return Target(numbers=numbers, labels=labels.astype(np.int64), class_names=names)
    return target


def _names(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


def decide_task(target: Target, out: OutputInfo, forced: str | None) -> str:
    if forced:
        return forced
    if target.task:
        return target.task
    if target.text:
        return "classification"
    if target.labels is not None:
        if out.units is None or out.units > 1:
            return "classification"
        # One sigmoid unit over 0/1 labels is binary classification; one linear unit is regression.
        if out.activation == "sigmoid" and len(target.class_names or []) <= 2:
            return "classification"
    return "regression"


def fit_target(
    target: Target, out: OutputInfo, task: str, where: str, input_shape: list[int] | None = None
) -> tuple[np.ndarray | None, list[str] | None, list[int]]:
    """Check the target against the output; return (y, class_names, per-example target shape).

    ``y`` is None for reconstruction (the caller feeds the input as the target).
    """
    if task == "classification":
        if target.labels is None:
            raise DatasetError(
                f"{where}: the target has fractional values; it cannot be read as classes"
            )
        names = target.class_names or []
        binary = out.units == 1 and len(names) <= 2
        if out.units is not None and out.units != len(names) and not binary:
            raise DatasetError(
                f"{where} has {len(names)} classes ({_names(names)}) but output '{out.name}'"
                f" has {out.units} units"
            )
        return target.labels.astype(np.int32), names, []
    if task == "regression":
        if target.numbers is None:
            raise DatasetError(f"{where}: the target holds text; regression needs numbers")
        width = target.numbers.shape[1]
        if out.units is not None and out.units != width:
            raise DatasetError(
                f"{where} has {width} target value(s) per example but output '{out.name}'"
                f" has {out.units} units"
            )
        return target.numbers.astype(np.float32), None, [width]
    shape = list(input_shape or [])
    if out.units is not None and (not shape or shape[-1] != out.units):
        raise DatasetError(
            f"{where}: reconstruction targets the input {format_shape(shape)} but output"
            f" '{out.name}' has {out.units} units"
        )
    return None, None, shape
