"""Which run a command means when the user names none: one rule for evaluate, export and predict.

"The result" of a project is the best finished run of its current graph: among the finished runs
whose graph compiles to the same model as the one open now, the one whose best checkpoint has the
lowest monitored loss (``val_loss``, or ``loss`` where no run has a validation split). When no
finished run of the current graph kept weights, the newest run with weights is used, and the
reason says so. The reason is one line the faces print, so the user always knows which run spoke.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.backends import records
from layerloom.backends.records import RunSummary
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets.base import DataSource
from layerloom.nodes.datasets.contract import InputContract
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.serialize import graph_from_dict

CHECKPOINT_KINDS = ("best", "last")


@dataclass(frozen=True)
class ChosenRun:
    summary: RunSummary
    checkpoint: dict[str, Any]  # kind, epoch, step, weights, optimizer (records.checkpoint)
    reason: str  # one line: which run and why

    @property
    def run_id(self) -> int:
        return self.summary.id


def _conn(opened: OpenProject) -> Any:
    return opened.project.conn


def _model_json(opened: OpenProject, version_id: int) -> Any:
    try:
        graph = graph_from_dict(opened.project.graph(version_id), opened.registry)
        return build_plan(graph, opened.registry, "model").to_json()
    except LayerloomError:
        return None  # a version that no longer compiles is never "the current model"


def _with_weights(opened: OpenProject, run_id: int, kind: str) -> dict[str, Any] | None:
    stored = records.checkpoint(_conn(opened), run_id, kind)
    if stored is None and kind == "best":
        stored = records.checkpoint(_conn(opened), run_id, "last")
    return stored if stored is not None and stored.get("weights") else None


def _score(summary: RunSummary, monitor: str) -> float:
    value = summary.best_metrics.get(monitor, summary.final_metrics.get(monitor))
    return float("inf") if value is None or value != value else float(value)


def _figure(summary: RunSummary, monitor: str, kind: str) -> str:
    value = summary.best_metrics.get(monitor)
    if kind != "best" or value is None or summary.best_epoch is None:
        return ""
    return f": {monitor} {value:.4g} at epoch {summary.best_epoch}"


def _current_model(opened: OpenProject) -> Any:
    # The graph open now (in the GUI it may hold edits not yet saved as a version).
    try:
        return build_plan(opened.graph, opened.registry, "model").to_json()
    except LayerloomError:
        return None


def choose_run(
    opened: OpenProject,
    run_id: int | None = None,
    checkpoint: str = "best",
    purpose: str = "use",
) -> ChosenRun:
    """The run (and its checkpoint with weights) that ``run_id`` names, or the default one.
    ``purpose`` (export, evaluate...) is the verb the refusals use.

    LayerloomError when the named run does not exist or kept no weights, or no run has any."""
    if checkpoint not in CHECKPOINT_KINDS:
        raise LayerloomError(f"checkpoint must be best or last, not {checkpoint!r}")
    name = opened.path.name
    if run_id is not None:
        found = records.summaries(_conn(opened), run_id)
        if not found:
            raise LayerloomError(f"{name} has no run {run_id}")
        stored = _with_weights(opened, run_id, checkpoint)
        if stored is None:
            raise LayerloomError(f"run {run_id} kept no trained weights (it saved no checkpoint)")
        return ChosenRun(found[0], stored, f"run {run_id} ({stored['kind']} checkpoint)")
    everything = records.summaries(_conn(opened))
    if not everything:
        raise LayerloomError(
            f"{name} has no trained weights to {purpose} yet; train a run first "
            f"(`layerloom train {name}`)"
        )
    current = _current_model(opened)
    same_model: dict[int, bool] = {}

    def of_current_graph(summary: RunSummary) -> bool:
        if summary.graph_version_id not in same_model:
            model = _model_json(opened, summary.graph_version_id)
            same_model[summary.graph_version_id] = current is not None and model == current
        return same_model[summary.graph_version_id]

    finished = [s for s in everything if s.status == "finished" and of_current_graph(s)]
    monitor = "val_loss" if any("val_loss" in s.best_metrics for s in finished) else "loss"
    for summary in sorted(finished, key=lambda s: (_score(s, monitor), -s.id)):
        stored = _with_weights(opened, summary.id, checkpoint)
        if stored is not None:
            why = (
                "the best finished run of the current graph"
                if len(finished) > 1
                else ("the finished run of the current graph")
            )
            figure = _figure(summary, monitor, stored["kind"])
            return ChosenRun(summary, stored, f"run {summary.id} ({why}{figure})")
    # An imported model's weights are the current graph's result until a run of it finishes.
    imported = [s for s in everything if s.status == records.IMPORTED and of_current_graph(s)]
    for summary in reversed(imported):
        stored = _with_weights(opened, summary.id, checkpoint)
        if stored is not None:
            why = "the imported weights of the current graph: no finished run of it yet"
            return ChosenRun(summary, stored, f"run {summary.id} ({why})")
    for summary in reversed(everything):
        stored = _with_weights(opened, summary.id, checkpoint)
        if stored is not None:
            why = f"the newest run with weights, {summary.status}: no finished run of the current graph"
            return ChosenRun(summary, stored, f"run {summary.id} ({why})")
    raise LayerloomError(
        f"{name} has no trained weights to {purpose} yet; train a run first "
        f"(`layerloom train {name}`)"
    )


@dataclass(frozen=True)
class RunResult:
    """How a run ended, in the terms evaluate and export use: its best epoch and that epoch's
    metrics (the best checkpoint), and the run they will use by default, with the reason."""

    run_id: int
    status: str
    epochs: int
    best_epoch: int | None
    best_metrics: dict[str, float]
    chosen: ChosenRun | None  # what evaluate/export use with no --run; None: nothing to use


def result_of(opened: OpenProject, run_id: int) -> RunResult:
    found = records.summaries(_conn(opened), run_id)
    if not found:
        raise LayerloomError(f"{opened.path.name} has no run {run_id}")
    summary = found[0]
    try:
        chosen: ChosenRun | None = choose_run(opened)
    except LayerloomError:
        chosen = None
    return RunResult(
        run_id,
        summary.status,
        summary.epochs,
        summary.best_epoch,
        dict(summary.best_metrics),
        chosen,
    )


def describe_dataset(spec: dict[str, Any]) -> str:
    """A dataset spec in words: its file or folder, or the built-in sample's name."""
    if spec.get("kind") == "sample":
        return f"the built-in sample {spec.get('name')!r}"
    place = spec.get("path") or spec.get("root") or spec.get("folder")
    return str(place) if place else f"a {spec.get('kind')} dataset"


def run_dataset(
    opened: OpenProject, summary: RunSummary, plan: BuildPlan
) -> tuple[dict[str, Any], DataSource]:
    """The dataset spec a run trained on and its source, checked against ``plan``."""
    from layerloom.nodes.datasets import open_source

    spec = summary.settings.get("dataset")
    if not isinstance(spec, dict):
        raise LayerloomError(
            f"run {summary.id} does not record which dataset it trained on (it was trained "
            "before runs kept that); set that dataset with `layerloom data` to evaluate on it"
        )
    source = open_source(spec, opened.path.resolve().parent)
    source.check(plan)
    return spec, source


def dataset_warning(
    opened: OpenProject, summary: RunSummary, fingerprint: str, own_data: bool = False
) -> str | None:
    """One line when the data about to be used is not what ``summary``'s run trained on (by
    fingerprint), saying how to evaluate on the run's own data; None when it is the same."""
    trained_on = summary.dataset_fingerprint
    if not trained_on or trained_on == fingerprint:
        return None
    spec = summary.settings.get("dataset")
    if own_data:
        return (
            f"{describe_dataset(spec or {})} has changed since run {summary.id} trained on it "
            f"(its fingerprint was {trained_on[:12]}, now {fingerprint[:12]})"
        )
    if isinstance(spec, dict):
        how = (
            f"to evaluate on the data it trained on ({describe_dataset(spec)}), add --run-data "
            f"(`layerloom evaluate {opened.path.name} --run {summary.id} --run-data`)"
        )
    else:
        how = (
            "the run does not record which file that was; set it again with `layerloom data` "
            "to evaluate on it"
        )
    return (
        f"the project's dataset is not the one run {summary.id} trained on (fingerprint "
        f"{fingerprint[:12]}, the run's {trained_on[:12]}); {how}"
    )


def run_contract(summary: RunSummary) -> InputContract | None:
    """How ``summary``'s run reads raw inputs, as recorded when it started; None for runs from
    before runs kept it (their contract must come from the project's data)."""
    raw = summary.settings.get("input_contract")
    return InputContract.from_json(raw) if isinstance(raw, dict) else None
