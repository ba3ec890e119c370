"""The base for sources that fit in memory as NumPy arrays (CSV, .npz, built-in samples).

A subclass supplies its inputs keyed by the plan's Input names and its target; this module checks
them against the plan once (cached per plan) and slices them into tf.data elements.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerloom.nodes.datasets.base import DataInfo, DataSource
from layerloom.nodes.datasets.fit import (
    Target,
    check_input,
    check_integer_input,
    decide_task,
    fit_target,
    output_of,
)
from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan


@dataclass(frozen=True)
class Fitted:
    info: DataInfo
    inputs: dict[str, np.ndarray]  # plan input name -> (n, ...) in the Input's dtype
    targets: np.ndarray


class InMemorySource(DataSource):
    _fitted: tuple[str, Fitted] | None = None

    @abstractmethod
    def inputs_for(self, plan: BuildPlan) -> dict[str, np.ndarray]:
        """Arrays keyed by every plan Input name; DatasetError if the data cannot feed them."""

    @abstractmethod
    def target(self) -> Target:
        """The target as read from the data (the plan decides classes vs numbers)."""

    def describe_input(self, input_name: str, array: np.ndarray) -> str:
        """The data side of a shape mismatch, e.g. "data.csv has 19 feature columns"."""
        return f"{self.name} has examples of shape {tuple(array.shape[1:])}"

    def single_input(self, plan: BuildPlan) -> str:
        if len(plan.inputs) != 1:
            names = ", ".join(i.name for i in plan.inputs)
            raise DatasetError(
                f"{self.name} feeds one Input but the model has {len(plan.inputs)} ({names})"
            )
        return plan.inputs[0].name

    def check(self, plan: BuildPlan) -> DataInfo:
        return self.fit(plan).info

    def fit(self, plan: BuildPlan) -> Fitted:
        key = json.dumps(plan.to_json(), sort_keys=True, default=str)
        if self._fitted is None or self._fitted[0] != key:
            self._fitted = (key, self._fit(plan))
        return self._fitted[1]

    def _fit(self, plan: BuildPlan) -> Fitted:
        if not plan.inputs:
            raise DatasetError("the model has no Input node for the data to feed")
        raw_inputs = self.inputs_for(plan)
        inputs = {}
        for plan_input in plan.inputs:
            array = raw_inputs[plan_input.name]
            check_input(plan_input, array.shape[1:], self.describe_input(plan_input.name, array))
            check_integer_input(plan_input, array, self.name)
            inputs[plan_input.name] = array.astype(plan_input.dtype, copy=False)
        out = output_of(plan)
        target = self.target()
        task = decide_task(target, out, self.task)
        first = plan.inputs[0]
        if task == "reconstruction":
            self.single_input(plan)  # the target is the input: there must be exactly one
        y, class_names, target_shape = fit_target(
            target, out, task, self.name, list(inputs[first.name].shape[1:])
        )
        if y is None:  # reconstruction: the target is the input itself, as floats for MSE
            y = inputs[first.name].astype(np.float32)
        splits = self.split_indices()
        info = DataInfo(
            kind=self.kind,
            task=task,
            num_classes=len(class_names) if class_names is not None else None,
            class_names=class_names,
            input_names=[i.name for i in plan.inputs],
            input_shapes={name: list(a.shape[1:]) for name, a in inputs.items()},
            input_dtypes={i.name: i.dtype for i in plan.inputs},
            target_shape=target_shape,
            output_name=out.name,
            output_units=out.units,
            num_train=len(splits["train"]),
            num_validation=len(splits["validation"]),
            num_test=len(splits["test"]),
        )
        return Fitted(info, inputs, y)

    def elements(self, indices: np.ndarray, plan: BuildPlan, info: DataInfo) -> Any:
        import tensorflow as tf

        fitted = self.fit(plan)
        x = {name: array[indices] for name, array in fitted.inputs.items()}
        features = x if len(x) > 1 else next(iter(x.values()))
        return tf.data.Dataset.from_tensor_slices((features, fitted.targets[indices]))


def value_summary(array: np.ndarray) -> str:
    """One example as a short cell: a few values, or shape and range for images and sequences."""
    flat = np.asarray(array).ravel()
    if array.ndim > 1 or flat.size > 8:
        return f"{tuple(array.shape)} {array.dtype} in [{flat.min():.4g}, {flat.max():.4g}]"
    return ", ".join(f"{v:.4g}" if isinstance(v, float | np.floating) else str(v) for v in flat)
