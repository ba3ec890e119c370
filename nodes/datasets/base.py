"""What every dataset source shares: the DataSource interface, the reports ``check`` and ``preview``
return (DataInfo, Preview), and the train/validation/test split by ratios and a seed.

No TensorFlow here: ``elements``/``decoder`` import it when ``make_pipelines`` asks for them.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from layerloom.nodes.datasets.contract import InputContract, ModelInput
from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan

SPLITS = ("train", "validation", "test")
DEFAULT_SPLIT: dict[str, Any] = {"validation": 0.2, "test": 0.1, "seed": 42, "column": None}


@dataclass(frozen=True)
class DataInfo:
    """What ``check(plan)`` learned: the task, classes, per-example shapes and the split sizes."""

    kind: str
    task: str  # "classification" | "regression" | "reconstruction"
    num_classes: int | None
    class_names: list[str] | None
    input_names: list[str]
    input_shapes: dict[str, list[int]]  # per example, without the batch dimension
    input_dtypes: dict[str, str]
    target_shape: list[int]  # [] for a class index
    output_name: str
    output_units: int | None
    num_train: int
    num_validation: int
    num_test: int

    @property
    def loss_hint(self) -> str:
        """The loss that matches the targets as the pipelines yield them (the trainer decides)."""
        if self.task != "classification":
            return "mean_squared_error"
        # Two classes into one sigmoid unit: the labels are 0/1 indices, so binary crossentropy.
        if self.output_units == 1:
            return "binary_crossentropy"
        return "sparse_categorical_crossentropy"

    def summary(self) -> str:
        what = self.task
        if self.num_classes is not None:
            what += f", {self.num_classes} classes"
        return (
            f"{what}; {self.num_train} train / {self.num_validation} validation"
            f" / {self.num_test} test"
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "loss_hint": self.loss_hint}


@dataclass
class Preview:
    """A short, printable look at a source: counts, columns or classes, shapes, the first rows."""

    kind: str
    path: str | None
    count: int
    unit: str  # "rows" | "images" | "examples"
    columns: list[str] = field(default_factory=list)  # "name: how it is read"
    classes: dict[str, int] | None = None  # class name -> examples
    shapes: dict[str, list[int]] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        where = f" {self.path}" if self.path else ""
        out = [f"{self.kind}{where}: {self.count} {self.unit}"]
        if self.columns:
            out.append("columns:")
            out += [f"  {c}" for c in self.columns]
        if self.classes is not None:
            listed = ", ".join(f"{name} ({n})" for name, n in list(self.classes.items())[:12])
            more = f", ... {len(self.classes) - 12} more" if len(self.classes) > 12 else ""
            out.append(f"classes: {len(self.classes)}: {listed}{more}")
        for name, shape in self.shapes.items():
            out.append(f"shape of {name}: {tuple(shape)}")
        if self.rows:
            out.append("first rows:")
            table = [self.header, *self.rows]
            widths = [max(len(r[i]) for r in table) for i in range(len(self.header))]
            for row in table:
                out.append(
                    "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                )
        out += self.notes
        return out


def contract_basics(plan: BuildPlan, info: DataInfo) -> dict[str, Any]:
    """The fields every input contract has: the model's Inputs, the task, classes and output."""
    return {
        "inputs": [ModelInput(i.name, list(i.shape), i.dtype) for i in plan.inputs],
        "task": info.task,
        "class_names": info.class_names,
        "output": info.output_name,
    }


def normalize_split(raw: dict[str, Any] | None) -> dict[str, Any]:
    split = {**DEFAULT_SPLIT, **(raw or {})}
    unknown = set(split) - set(DEFAULT_SPLIT)
    if unknown:
        raise DatasetError(f"unknown split option(s): {', '.join(sorted(unknown))}")
    for key in ("validation", "test"):
        value = split[key]
        if not isinstance(value, int | float) or not 0 <= value < 1:
            raise DatasetError(f"split {key} must be a ratio from 0 up to 1, not {value!r}")
    if split["validation"] + split["test"] >= 1:
        raise DatasetError(
            f"split validation {split['validation']} + test {split['test']} leaves nothing to train on"
        )
    split["seed"] = int(split["seed"])
    return split


def ratio_split(count: int, split: dict[str, Any]) -> dict[str, np.ndarray]:
    """Indices per split: a seeded permutation cut by the ratios; each part sorted (stable order)."""
    order = np.random.default_rng(split["seed"]).permutation(count)
    sizes = {}
    for key in ("test", "validation"):
        n = int(round(count * split[key]))
        # A non-zero ratio on a tiny dataset still gets one example, so the split exists at all.
        sizes[key] = max(n, 1) if split[key] > 0 and count >= 3 else n
    n_train = count - sizes["test"] - sizes["validation"]
    if n_train < 1:
        raise DatasetError(f"{count} examples are too few to split into train/validation/test")
    cuts = np.cumsum([n_train, sizes["validation"]])
    parts = np.split(order, cuts)
    return {name: np.sort(part) for name, part in zip(SPLITS, parts, strict=True)}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class SourceOption:
    """One per-kind spec key as the faces offer it: ``layerloom data --NAME`` and, when it has a
    ``label``, a field on the GUI's Data tab."""

    name: str  # the spec key; the CLI flag is --NAME
    help: str  # the CLI's help line (after "KIND: ")
    metavar: str | None = None
    default: Any = None  # the spec value when the option is not given
    parse: Callable[[str], Any] | None = None  # CLI/GUI text -> spec value (None: drop it)
    label: str | None = None  # the GUI form's label; None: CLI only
    accessible: str | None = None  # the GUI field's accessible name (default: the label)
    placeholder: str = ""
    column: bool = False  # the GUI offers the file's columns (``DataSource.columns``) to pick


class DataSource(ABC):
    """One dataset: where it is, how it splits, and how it becomes tf.data elements.

    ``spec`` is the JSON-able dict stored in the project; relative paths resolve against
    ``base_dir`` (the project's folder), or the working directory when there is none.

    A subclass also declares how the faces offer it, so adding a source is one module that calls
    ``register_source``: the CLI's ``layerloom data --KIND`` flag and per-kind options and the
    GUI's Data tab (label, file dialog, form fields) are generated from these declarations.
    """

    kind: ClassVar[str]
    options: ClassVar[tuple[str, ...]] = ()  # spec keys besides kind/path/split/task
    label: ClassVar[str] = ""  # the GUI's name for the kind (default: the kind)
    locator: ClassVar[str] = "file"  # "file" | "folder" (a path) | "name" (a spec "name")
    what: ClassVar[str] = "a file"  # what the user must choose, for "choose ... first"
    file_filter: ClassVar[str] = "All files (*)"  # the GUI file dialog's filter
    cli_help: ClassVar[str] = ""
    cli_options: ClassVar[tuple[SourceOption, ...]] = ()
    rank: ClassVar[int] = 100  # the faces list kinds by rank, then by registration

    @classmethod
    def choices(cls) -> dict[str, str]:
        """For a ``"name"`` locator: the names to choose from, each with a one-line description."""
        return {}

    @classmethod
    def columns(cls, path: Path) -> list[str]:
        """The columns a ``column`` option may pick from in the file at ``path``."""
        return []

    @classmethod
    def spec_from_given(cls, located: Any, given: dict[str, Any]) -> dict[str, Any]:
        """The spec for ``--KIND located`` with the (non-None) CLI-style options ``given``.

        Paths become absolute against the working directory; options that are not given take
        their declared default, and options still None are left out of the spec.
        """
        if cls.locator == "name":
            spec: dict[str, Any] = {"kind": cls.kind, "name": str(located)}
        else:
            spec = {"kind": cls.kind, "path": os.fspath(Path(located).expanduser().resolve())}
        for option in cls.cli_options:
            value = given.get(option.name)
            if value is not None and option.parse is not None:
                value = option.parse(value)
            if value is None:
                value = option.default
            if value is not None:
                spec[option.name] = value
        return spec

    def __init__(self, spec: dict[str, Any], base_dir: str | Path | None = None) -> None:
        allowed = {"kind", "path", "split", "task", *self.options}
        unknown = set(spec) - allowed
        if unknown:
            raise DatasetError(
                f"unknown option(s) for a {self.kind} dataset: {', '.join(sorted(unknown))}"
            )
        self.spec = {**spec, "split": normalize_split(spec.get("split"))}
        task = spec.get("task")
        if task not in (None, "classification", "regression", "reconstruction"):
            raise DatasetError(
                f"unknown task {task!r}; use classification, regression or reconstruction"
            )
        self.task: str | None = task
        self.path: Path | None = None
        if "path" in spec:
            raw = Path(spec["path"]).expanduser()
            self.path = raw if raw.is_absolute() else Path(base_dir or Path.cwd()) / raw

    @property
    def name(self) -> str:
        """How messages name the data: the file or folder name."""
        return self.path.name if self.path else self.kind

    def require_path(self, folder: bool = False) -> Path:
        if self.path is None:
            raise DatasetError(f"a {self.kind} dataset needs a path")
        if folder and not self.path.is_dir():
            raise DatasetError(f"{self.path} is not a folder")
        if not folder and not self.path.is_file():
            raise DatasetError(f"{self.path} does not exist or is not a file")
        return self.path

    @property
    def split(self) -> dict[str, Any]:
        return self.spec["split"]

    @abstractmethod
    def count(self) -> int:
        """How many examples (rows, images) there are; cheap after the first call."""

    @abstractmethod
    def fingerprint(self) -> str:
        """sha256 hex of the data's content: same data, same hash."""

    @abstractmethod
    def preview(self, rows: int = 5) -> Preview: ...

    @abstractmethod
    def check(self, plan: BuildPlan) -> DataInfo:
        """Does the data fit the plan's Inputs and output? Raises DatasetError with one line."""

    def split_indices(self) -> dict[str, np.ndarray]:
        if self.split["column"] is not None:
            raise DatasetError(
                f"a split column works with CSV files only, not a {self.kind} dataset"
            )
        return ratio_split(self.count(), self.split)

    @abstractmethod
    def elements(self, indices: np.ndarray, plan: BuildPlan, info: DataInfo) -> Any:
        """An unbatched tf.data.Dataset of cheap elements for these examples (before shuffling)."""

    def decoder(self, plan: BuildPlan, info: DataInfo) -> Callable[..., Any] | None:
        """A function mapped over the (shuffled) elements to make ``(x, y)``; None if they are."""
        return None

    def input_contract(self, plan: BuildPlan, info: DataInfo) -> InputContract:
        """What the trained model takes, raw (``contract``): by default the arrays as they are.
        Sources that prepare examples outside the model (decode, resize, one-hot) say how."""
        return InputContract(kind="array", **contract_basics(plan, info))

    def undecodable(self, plan: BuildPlan) -> list[str]:
        """The files ``decoder`` fails on, named for the user: asked after the input pipeline
        failed mid-training (files that looked whole when checked, or changed since). Sources
        whose elements need no decoding have none."""
        return []


# The registry of source kinds, in the order the faces offer them (the GUI's first is its default).
SOURCES: dict[str, type[DataSource]] = {}
# Names the CLI already uses for the project, the split and the output: no kind may take them.
RESERVED = frozenset(
    {"project", "task", "validation", "test", "seed", "split_column", "rows", "json", "help"}
)


def register_source(cls: type[DataSource]) -> type[DataSource]:
    """Add a source kind (usable as a class decorator); the CLI and GUI offer it from then on."""
    taken = {option.name for source in SOURCES.values() for option in source.cli_options}
    clash = ({cls.kind} | {o.name for o in cls.cli_options}) & (RESERVED | set(SOURCES))
    if cls.kind in taken:
        clash.add(cls.kind)
    if clash:
        raise DatasetError(f"a {cls.kind} source cannot use the name(s) {', '.join(sorted(clash))}")
    ordered = sorted([*SOURCES.values(), cls], key=lambda source: source.rank)
    SOURCES.clear()
    SOURCES.update((source.kind, source) for source in ordered)
    return cls
