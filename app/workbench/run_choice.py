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
from layerloom.nodes.errors import LayerloomError
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


def choose_run(
    opened: OpenProject, run_id: int | None = None, checkpoint: str = "best"
) -> ChosenRun:
    """The run (and its checkpoint with weights) that ``run_id`` names, or the default one.

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
        raise LayerloomError(f"{name} has no runs yet; train first (`layerloom train {name}`)")
    latest = opened.project.latest_graph()
    current = _model_json(opened, latest[0]) if latest else None
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
    for summary in reversed(everything):
        stored = _with_weights(opened, summary.id, checkpoint)
        if stored is not None:
            why = f"no finished run of the current graph; the newest run with weights, {summary.status}"
            return ChosenRun(summary, stored, f"run {summary.id} ({why})")
    raise LayerloomError(
        f"{name} has no trained weights yet; train a run first (`layerloom train {name}`)"
    )
