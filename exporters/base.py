"""The exporter contract: one small class per deploy target.

An exporter declares its options with the same Param kinds as node specs (the GUI's export dialog
and the CLI's ``--opt key=value`` are generated from them), what it needs installed, what it cannot
take per node (``limits``: a plain-Python declaration in ``exporters/*_limits.py``, also registered
under the ``layerloom.export_limits`` entry-point group so the editor reads it without importing the
exporter), whether its options need calibration data, and what a failed parity check means for the
files it wrote (``on_parity_failure``). It writes files into a folder
(``export``) and runs what it wrote in the artifact's real runtime (``predict``); ``exporters.run``
compares that with Keras. No file dialogs and no project access here: the caller hands over a
built model, a held-out batch and an empty folder.

Exporters run inside the export worker (a child process), so a converter that crashes natively
costs an error message, never the app.
"""

from __future__ import annotations

import importlib.util
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from layerloom.nodes.datasets.contract import InputContract, ModelInput
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.export_capabilities import TargetLimits
from layerloom.nodes.params import Bool, Float, Int, Param
from layerloom.nodes.plan import BuildPlan


class ExportError(LayerloomError):
    """An export that cannot be done: bad options, an unconvertible graph, a missing tool."""


@dataclass(frozen=True)
class Tolerance:
    """What the parity check demands; a None field is not checked."""

    max_abs_error: float | None = None  # every output value within this of Keras' value
    min_top1_agreement: float | None = None  # classification: share of samples with Keras' class
    # Classification: the outputs after the first (a multi-output model's values, not its class
    # scores) are not judged by agreement, so they must stay within this of Keras.
    other_outputs_max_abs_error: float | None = None


@dataclass
class ExportContext:
    """Everything an exporter may use. Arrays are NumPy; ``model`` is the trained ``keras.Model``."""

    model: Any
    plan: BuildPlan
    # Exists; empty unless the user allowed overwriting (or ``reuses_folder``). The exporter writes
    # here and nowhere else.
    out_dir: Path
    options: dict[str, Any]  # resolved: every declared option present, values checked
    sample: dict[str, Any]  # the parity batch: Input name -> array with a batch dimension
    # Calibration examples for quantisation (int8), drawn from the training data; each entry maps
    # Input name -> a batch of one.
    representative: list[dict[str, Any]] = field(default_factory=list)
    class_names: list[str] | None = None  # classification only; index = class id
    task: str = "classification"  # classification | regression | reconstruction
    model_name: str = "model"  # a safe identifier (letters, digits, underscores)
    weights_file: Path | None = (
        None  # the trained weights (.weights.h5), for exporters that ship it
    )
    progress: Callable[[str], None] = field(default=lambda message: None)
    # What the model takes raw, from the run's data (``nodes.datasets.contract``); None: the plan's
    # arrays as they are (``input_contract()`` makes that one).
    contract: InputContract | None = None
    # Tables: one real row of the data (column -> cell text), shown encoded in the README.
    example_row: dict[str, str] | None = None

    @property
    def classification(self) -> bool:
        return self.task == "classification"

    def input_contract(self) -> InputContract:
        """The run's input contract, or (no dataset) the plan's Inputs taken as they are."""
        if self.contract is not None:
            return self.contract
        return InputContract(
            kind="array",
            inputs=[ModelInput(i.name, list(i.shape), i.dtype) for i in self.plan.inputs],
            task=self.task,
            class_names=self.class_names,
            output=self.plan.outputs[0] if self.plan.outputs else "",
        )


@dataclass
class Artifact:
    """What ``export`` wrote. ``handle`` is the exporter's own (a loaded interpreter, a session...)."""

    files: list[Path]  # every file written, absolute; the main one first
    runtime: str  # what ``predict`` runs it in, with its version: "LiteRT 2.3.0 interpreter"
    details: dict[str, Any] = field(default_factory=dict)  # JSON-able facts shown to the user
    handle: Any = None


class Exporter(ABC):
    target: ClassVar[str]  # the CLI's --target value
    title: ClassVar[str]  # the dialog's button: "Phone (TF Lite)"
    summary: ClassVar[str]  # one line: what the user gets
    options: ClassVar[tuple[Param, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()  # Python modules, or "exe:NAME" for programs on PATH
    # True for targets whose folder legitimately holds earlier exports (TF Serving's numbered
    # versions); every other target wants an empty folder unless the user allows overwriting.
    reuses_folder: ClassVar[bool] = False
    # What it cannot take per node; None: every node (its one limit key is its target).
    limits: ClassVar[TargetLimits | None] = None

    # --- declared facts ---------------------------------------------------------------------
    def unavailable(self) -> str | None:
        """Why this target cannot run on this machine (None when it can)."""
        for need in self.requires:
            if need.startswith("exe:"):
                if shutil.which(need[4:]) is None:
                    return f"{self.title} needs the program '{need[4:]}', which is not on PATH"
            elif importlib.util.find_spec(need) is None:
                return f"{self.title} needs the Python package '{need}', which is not installed"
        return None

    def limit_keys(self, options: dict[str, Any]) -> tuple[str, ...]:
        """The node limit keys (declared in ``limits``) these resolved options bring in."""
        return self.limits.limit_keys(options) if self.limits is not None else (self.target,)

    def needs_calibration(self, options: dict[str, Any]) -> str | None:
        """Why these options need examples of the training data (quantisation calibrates on
        them), or None. The export refuses a project without a dataset up front then: calibrating
        on synthetic noise gives a model that is confidently wrong on real inputs."""
        return None

    def on_parity_failure(
        self, files: list[str], details: dict[str, Any]
    ) -> tuple[list[str], dict[str, Any]]:
        """What to do with the files of an export that failed parity (they stay for inspection
        by default); returns the files and details as they are afterwards."""
        return files, details

    def tolerance(self, options: dict[str, Any], classification: bool) -> Tolerance:
        """Float exports: every value within ``max_abs_error`` of Keras."""
        return Tolerance(max_abs_error=float(options.get("max_abs_error", 1e-4)))

    def resolve_options(self, given: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every declared option, from ``given`` (values or CLI strings) or its default."""
        given = dict(given or {})
        known = {p.name: p for p in self.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            names = ", ".join(known) or "none"
            raise ExportError(
                f"{self.target} has no option {', '.join(map(repr, unknown))} (options: {names})"
            )
        resolved: dict[str, Any] = {}
        for param in self.options:
            value = param.default
            if param.name in given:
                value = parse_option(param, given[param.name])
            value = param.normalize(value)
            problem = param.check(value)
            if problem:
                raise ExportError(f"{self.target} option {param.name}: {problem}")
            resolved[param.name] = value
        return resolved

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "title": self.title,
            "summary": self.summary,
            "options": [p.describe() for p in self.options],
            "unavailable": self.unavailable(),
        }

    # --- the work (inside the export worker) ---------------------------------------------------
    @abstractmethod
    def export(self, ctx: ExportContext) -> Artifact:
        """Write the artifact into ``ctx.out_dir``; ExportError names what cannot be converted."""

    @abstractmethod
    def predict(self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]) -> list[Any]:
        """Run ``inputs`` (Input name -> batch) through the artifact in its real runtime; one array
        per model output, in ``ctx.plan.outputs`` order, as float arrays comparable with Keras."""

    def extra_checks(self, artifact: Artifact, ctx: ExportContext) -> dict[str, dict[str, Any]]:
        """Checks beyond the comparison with Keras that ``predict`` ran (TF Lite Micro against
        LiteRT's reference kernels): name -> a JSON-able report with ``passed`` and ``reason``.
        A failed one fails the parity check; all of them are kept in its report."""
        return {}


def parse_option(param: Param, value: Any) -> Any:
    """A CLI string (``--opt key=value``) as the param's kind; other values pass through."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if isinstance(param, Bool):
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            return text
        if isinstance(param, Int):
            return int(text)
        if isinstance(param, Float):
            return float(text)
    except ValueError:
        return text  # check() names the bad value
    return text


TOLERANCE_OPTION = Float(
    "max_abs_error",
    1e-4,
    "parity: the largest difference from Keras allowed in any output value",
    min=0.0,
)
AGREEMENT_OPTION = Float(
    "min_top1_agreement",
    0.95,
    "parity (quantised, classification): the share of samples that must keep Keras' top class",
    min=0.0,
    max=1.0,
)
