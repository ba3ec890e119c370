"""What a dataset is, read before a graph fits it: per Input the shape and role of its examples,
the target, the task chosen from that target (and why), and the scale of each numeric column.

``nodes.adapt`` turns these facts into graph changes; ``scale_problem`` is the "features differ
in scale" warning. Pure NumPy: nothing here imports TensorFlow.

How the task is chosen (``choose_task``), in order:

- ``--task`` (the spec's ``task``) wins; a source that fixes its task (an image folder, a sample,
  an ``.npz`` without targets) comes next;
- text labels, or one-hot rows, are classes;
- fractional numbers, or several numbers per example, are values to predict (regression);
- integers are classes when there are few of them: at most ``FEW_INTEGER_CLASSES`` (10) different
  values, or at most ``MAX_INTEGER_CLASSES`` (20) that each stand for 20 rows on average (at most
  5 % of the rows). More are values: an integer target with many values (a price, an age, a count)
  must not silently become hundreds of classes. The printed line says how to override it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerloom.nodes.datasets.base import DataSource
from layerloom.nodes.datasets.fit import Target
from layerloom.nodes.datasets.image_sizes import image_size
from layerloom.nodes.datasets.images import ImageFolderSource
from layerloom.nodes.datasets.memory import InMemorySource
from layerloom.nodes.datasets.tabular import CsvSource
from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan, PlanInput

FEW_INTEGER_CLASSES = 10
MAX_INTEGER_CLASSES = 20
CLASS_SHARE = 0.05
SCALE_RATIO = 100.0  # numeric columns whose largest values differ more than this need scaling
SAMPLED_IMAGES = 200  # image headers read, spread over the folder (every class, every size)
MAX_IMAGE_SIDE = 512  # larger images keep the graph's size: a 4000x3000 Input is not a fit


@dataclass(frozen=True)
class InputFacts:
    name: str  # the Keras name of the Input it feeds (``BuildPlan.inputs``)
    shape: tuple[int | None, ...]  # per example; None: keep the graph's size on that axis
    role: str  # "image" (0..255 pixels) | "numeric" (features to normalise) | "tokens" (ids)
    why: str  # one line: where the shape comes from
    columns: tuple[tuple[str, float], ...] = ()  # numeric columns and their scale (max |value|)


@dataclass(frozen=True)
class TaskChoice:
    task: str
    reason: str
    override: str | None = None  # the other task a user may ask for with --task

    def line(self) -> str:
        hint = f"; override with --task {self.override}" if self.override else ""
        return f"task: {self.task}: {self.reason}{hint}"


@dataclass(frozen=True)
class DataFacts:
    name: str  # how messages name the data
    kind: str
    rows: int
    inputs: list[InputFacts]
    target: Target
    task: TaskChoice

    @property
    def class_names(self) -> list[str]:
        return list(self.target.class_names or [])

    @property
    def target_width(self) -> int | None:
        numbers = self.target.numbers
        return None if numbers is None else int(numbers.shape[1])


Reader = Callable[[Any, list[str], dict[str, str]], tuple[list[InputFacts], Target, str | None]]
# Source class -> how its facts are read (inputs, target, and why its task is fixed, if it is);
# the most specific class in a source's MRO wins, so a plugin's source can add its own.
READERS: dict[type, Reader] = {}
# Source class -> the names of a numeric input's columns (None for a one-hot column).
COLUMN_NAMES: dict[type, Callable[[Any, str, int], list[str | None]]] = {}


def _for(registry: dict[type, Any], source: DataSource) -> Any:
    found = next((registry[cls] for cls in type(source).__mro__ if cls in registry), None)
    if found is None:
        raise DatasetError(f"{source.name}: a {source.kind} dataset cannot fit a graph by itself")
    return found


def read_facts(
    source: DataSource,
    input_names: list[str] | None = None,
    input_dtypes: dict[str, str] | None = None,
    forced_task: str | None = None,
) -> DataFacts:
    """The facts of ``source`` for a graph with these Inputs (Keras names; None: one Input)."""
    names = input_names or ["input"]
    inputs, target, fixed = _for(READERS, source)(source, names, input_dtypes or {})
    task = choose_task(target, source.count(), forced_task or source.task, fixed)
    return DataFacts(source.name, source.kind, source.count(), inputs, target, task)


# --- the task -----------------------------------------------------------------------------------


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


def choose_task(
    target: Target, rows: int, forced: str | None = None, fixed: str | None = None
) -> TaskChoice:
    if forced:
        return TaskChoice(forced, "as asked")
    if target.task:
        return TaskChoice(target.task, fixed or f"the data is {target.task} data")
    names = target.class_names or []
    if target.text:
        return TaskChoice("classification", f"the target holds text labels ({_listed(names)})")
    if target.numbers is None:
        return TaskChoice("classification", f"the target is one-hot ({len(names)} classes)")
    width = target.numbers.shape[1]
    if width > 1:
        return TaskChoice("regression", f"the target has {width} numbers per example")
    if target.labels is None:
        whole = bool(np.all(target.numbers == np.round(target.numbers)))
        what = "more different integers than classes can be" if whole else "fractional numbers"
        return TaskChoice("regression", f"the target holds {what}")
    count = len(names)
    if count <= FEW_INTEGER_CLASSES or (
        count <= MAX_INTEGER_CLASSES and count <= CLASS_SHARE * rows
    ):
        return TaskChoice(
            "classification",
            f"the target holds {count} different integers ({_listed(names)})",
            "regression",
        )
    return TaskChoice(
        "regression",
        f"the target holds {count} different integers in {rows} rows (classes are at most"
        f" {MAX_INTEGER_CLASSES} integers, each in 5 % of the rows or more)",
        "classification",
    )


# --- inputs -------------------------------------------------------------------------------------


def _role(array: np.ndarray, dtype: str) -> str:
    if "int" in dtype and array.dtype.kind in "biu":
        return "tokens"
    if (
        array.ndim == 4
        and array.shape[-1] in (1, 3, 4)
        and array.size
        and float(array.min()) >= 0
        and 1.0 < float(array.max()) <= 255.0
    ):
        return "image"
    return "numeric"


def _scales(source: Any, name: str, array: np.ndarray) -> tuple[tuple[str, float], ...]:
    if array.ndim != 2 or not array.size:
        return ()
    namer = next((COLUMN_NAMES[c] for c in type(source).__mro__ if c in COLUMN_NAMES), None)
    names = namer(source, name, array.shape[1]) if namer else []
    if len(names) != array.shape[1]:
        names = [f"{name}[{i}]" for i in range(array.shape[1])]
    largest = np.abs(array.astype(np.float64)).max(axis=0)
    return tuple(
        (column, float(scale))
        for column, scale in zip(names, largest, strict=True)
        if column is not None
    )


def _in_memory(
    source: InMemorySource, names: list[str], dtypes: dict[str, str]
) -> tuple[list[InputFacts], Target, str | None]:
    # The sources read their arrays for a plan's Inputs; only the names matter to them.
    stub = BuildPlan("facts", [PlanInput(n, [], dtypes.get(n, "float32")) for n in names], [], [])
    arrays = source.inputs_for(stub)
    inputs = []
    for name in names:
        array = arrays[name]
        role = _role(array, dtypes.get(name, "float32"))
        columns = _scales(source, name, array) if role == "numeric" else ()
        why = source.describe_input(name, array)
        inputs.append(InputFacts(name, tuple(array.shape[1:]), role, why, columns))
    target = source.target()
    fixed = None
    if target.task == "reconstruction":
        fixed = f"{source.name} has no targets: the input is its own target"
    elif target.task:
        fixed = f"{source.name} is {target.task} data"
    return inputs, target, fixed


def _images(
    source: ImageFolderSource, names: list[str], dtypes: dict[str, str]
) -> tuple[list[InputFacts], Target, str | None]:
    if len(names) != 1:
        raise DatasetError(f"{source.name} feeds one Input but the model has {len(names)}")
    listing = source.listing()
    root = source.require_path(folder=True)
    step = max(1, len(listing.files) // SAMPLED_IMAGES)
    sizes = [image_size(root / rel) for rel in listing.files[::step]]
    known = [size for size in sizes if size is not None]
    if not known:
        raise DatasetError(f"{source.name}: no image's size could be read (PNG, JPEG, GIF, BMP)")
    channels = 1 if all(size[2] == 1 for size in known) else 3
    colour = "grey" if channels == 1 else "colour"
    sides = sorted({size[:2] for size in known})
    (height, width) = sides[0]
    if len(sides) == 1 and max(height, width) <= MAX_IMAGE_SIDE:
        shape: tuple[int | None, ...] = (height, width, channels)
        why = f"the images are {height}x{width}, {colour}"
    else:
        shape = (None, None, channels)
        low, high = sides[0], sides[-1]
        size = (
            f"{low[0]}x{low[1]} to {high[0]}x{high[1]}" if len(sides) > 1 else f"{height}x{width}"
        )
        why = f"the images are {colour}, {size}"
    target = Target(labels=listing.labels, class_names=listing.class_names, task="classification")
    count = len(listing.class_names)
    fixed = f"{source.name} is an image folder with a class per sub-folder ({count} classes)"
    return [InputFacts(names[0], shape, "image", why)], target, fixed


def _csv_columns(source: CsvSource, input_name: str, width: int) -> list[str | None]:
    groups = source.feature_groups()
    columns = groups.get(None) or groups.get(input_name) or []
    names: list[str | None] = []
    for column in columns:
        if source.is_text(column):
            names += [None] * len(set(source.column(column)))  # one-hot: 0/1, not compared
        else:
            names.append(column)
    return names


READERS.update({InMemorySource: _in_memory, ImageFolderSource: _images})
COLUMN_NAMES[CsvSource] = _csv_columns


def scale_problem(facts: InputFacts) -> str | None:
    """One line when the numeric columns' scales differ more than ``SCALE_RATIO`` times."""
    scaled = [(name, scale) for name, scale in facts.columns if scale > 0]
    if len(scaled) < 2:
        return None
    small = min(scaled, key=lambda item: item[1])
    large = max(scaled, key=lambda item: item[1])
    ratio = large[1] / small[1]
    if ratio <= SCALE_RATIO:
        return None
    return (
        f"the features differ in scale by {ratio:,.0f}x ('{small[0]}' up to {small[1]:.3g},"
        f" '{large[0]}' up to {large[1]:.3g})"
    )
