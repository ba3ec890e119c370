"""NumPy ``.npz`` files: named arrays of inputs (``x``) and targets (``y``), first axis = examples.

``x`` may name one array, or map each Input name to an array for a model with several Inputs
(by default such a model reads the arrays named after its Inputs). Without ``y`` (or with task
"reconstruction") the input is its own target. Files are loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.nodes.datasets.base import Preview, SourceOption, register_source, sha256_file
from layerloom.nodes.datasets.finite import not_finite
from layerloom.nodes.datasets.fit import Target, target_from_values
from layerloom.nodes.datasets.memory import InMemorySource, value_summary
from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan


@register_source
class NpzSource(InMemorySource):
    kind = "npz"
    rank = 30
    options = ("x", "y")
    label = "NumPy .npz"
    what = "an .npz file"
    file_filter = "NumPy archives (*.npz);;All files (*)"
    cli_help = "NumPy .npz of named arrays"
    cli_options = (
        SourceOption("x", "the input array (default x)", "NAME", default="x", label="Inputs (x)"),
        SourceOption("y", "the target array (default y)", "NAME", default="y", label="Targets (y)"),
    )

    def __init__(self, spec: dict[str, Any], base_dir: str | Path | None = None) -> None:
        super().__init__({"x": "x", "y": "y", **spec}, base_dir)
        self._names: list[str] | None = None
        self._arrays: dict[str, np.ndarray] = {}
        self._mapping: dict[str, str] = {}  # plan Input name -> array name, set by inputs_for

    def names(self) -> list[str]:
        if self._names is None:
            self._names = list(self._open().files)
        return self._names

    def _open(self) -> Any:
        path = self.require_path()
        try:
            loaded = np.load(path, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError):
            raise DatasetError(f"{self.name} is not a NumPy .npz file") from None
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DatasetError(
                f"{self.name} holds one unnamed array; save named ones with np.savez"
            )
        return loaded

    def array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            if name not in self.names():
                raise DatasetError(
                    f"{self.name} has no array '{name}'; arrays: {', '.join(self.names()) or 'none'}"
                )
            with self._open() as npz:
                try:
                    self._arrays[name] = npz[name]
                except ValueError:
                    raise DatasetError(
                        f"{self.name}: array '{name}' holds Python objects; save numbers or text"
                    ) from None
            # A 0-row (or scalar) array has no examples to split, check or train on; say so
            # here, before the shape and value checks trip over its empty first axis.
            shape = self._arrays[name].shape
            if not shape or shape[0] == 0:
                del self._arrays[name]
                what = "is a single value" if not shape else "has 0 examples (rows)"
                raise DatasetError(
                    f"{self.name}: array '{name}' {what}; its first axis must list the examples"
                )
        return self._arrays[name]

    def input_arrays(self, plan: BuildPlan | None = None) -> dict[str, str]:
        """Plan Input name -> array name (without a plan: the configured x array(s))."""
        x = self.spec["x"]
        if isinstance(x, dict):
            mapping = {str(k): str(v) for k, v in x.items()}
            wanted = [i.name for i in plan.inputs] if plan else list(mapping)
            if sorted(mapping) != sorted(wanted):
                raise DatasetError(
                    f"{self.name}: x maps arrays to {', '.join(sorted(mapping))} but the model's"
                    f" Inputs are {', '.join(wanted)}"
                )
            return mapping
        if plan is not None and len(plan.inputs) > 1:
            return {i.name: i.name for i in plan.inputs}  # arrays named after the Inputs
        return {plan.inputs[0].name if plan else "x": x}

    def inputs_for(self, plan: BuildPlan) -> dict[str, np.ndarray]:
        self._mapping = self.input_arrays(plan)
        arrays = {}
        for input_name, array_name in self._mapping.items():
            array = self.array(array_name)
            if array.dtype.kind not in "biuf":
                raise DatasetError(
                    f"{self.name}: array '{array_name}' holds {array.dtype}; inputs must be numbers"
                )
            not_finite(array, f"{self.name}: array '{array_name}'")
            arrays[input_name] = array
        y_name = self._y_name()
        self._same_length([*self._mapping.values(), *([y_name] if y_name else [])])
        return arrays

    def _y_name(self) -> str | None:
        return None if self.task == "reconstruction" else self.spec.get("y")

    def _same_length(self, names: list[str]) -> None:
        lengths = sorted((len(self.array(n)), n) for n in names)
        (shortest, a), (longest, b) = lengths[0], lengths[-1]
        if shortest != longest:
            raise DatasetError(
                f"{self.name}: array '{b}' has {longest} examples but '{a}' has {shortest}"
            )

    def describe_input(self, input_name: str, array: np.ndarray) -> str:
        array_name = self._mapping.get(input_name, input_name)
        return f"{self.name}: array '{array_name}' has examples of shape {tuple(array.shape[1:])}"

    def target(self) -> Target:
        name = self._y_name()
        if name is None:
            return Target(task="reconstruction")
        values = self.array(name)
        if values.dtype.kind == "f":
            not_finite(values, f"{self.name}: array '{name}'")
        return target_from_values(values)

    def count(self) -> int:
        first = next(iter(self.input_arrays().values()))
        return len(self.array(first))

    def fingerprint(self) -> str:
        return sha256_file(self.require_path())

    def preview(self, rows: int = 5) -> Preview:
        shapes = {}
        for name in self.names():
            try:
                shapes[name] = list(self.array(name).shape)
            except DatasetError:
                continue
        columns = [f"{n}: {tuple(s)} {self.array(n).dtype}" for n, s in shapes.items()]
        x_name = next(iter(self.input_arrays().values()))
        y_name = self._y_name()
        classes = None
        if y_name and y_name in shapes:
            target = target_from_values(self.array(y_name))
            if target.class_names and len(target.class_names) <= 100:
                counts = np.bincount(target.labels, minlength=len(target.class_names)).tolist()
                classes = dict(zip(target.class_names, counts, strict=True))
        first = []
        for i in range(min(rows, self.count())):
            y_cell = value_summary(self.array(y_name)[i]) if y_name in shapes else "(input)"
            first.append([str(i), value_summary(self.array(x_name)[i]), y_cell])
        return Preview(
            kind=self.kind,
            path=str(self.path),
            count=self.count(),
            unit="examples",
            columns=columns,
            classes=classes,
            shapes={n: s[1:] for n, s in shapes.items()},
            header=["#", x_name, y_name or "target"],
            rows=first,
        )
