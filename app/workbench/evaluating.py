"""Evaluate a run's checkpoint on one split of a dataset, in a worker job of kind ``evaluate``:
``layerloom evaluate``, the GUI's Evaluation tab and the pipeline's gate. The run is the one
``run_choice.choose_run`` names; its plan, dataset and checkpoint come as ``training`` prepares
them for a resumed run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.run_choice import choose_run, dataset_warning, run_dataset
from layerloom.app.workbench.training import (
    RESUME_STEM,
    _checkpoint_as_files,
    _dataset,
    _plan_for,
)
from layerloom.backends import records
from layerloom.backends.base import Backend, RunHandle
from layerloom.backends.protocol import Job
from layerloom.backends.registry import create_backend
from layerloom.nodes import training
from layerloom.nodes.errors import LayerloomError

__all__ = ["Evaluation", "evaluate"]


@dataclass
class Evaluation:
    """What ``evaluate`` measured; classification and regression fill different fields."""

    run_id: int
    split: str
    task: str
    samples: int
    checkpoint: dict[str, Any]  # kind, epoch, step of the weights evaluated
    metrics: dict[str, float] = field(default_factory=dict)  # Keras' own (loss, accuracy, ...)
    accuracy: float | None = None
    classes: list[str] = field(default_factory=list)
    # Rows: the true class; columns: the predicted class.
    confusion_matrix: list[list[int]] = field(default_factory=list)
    per_class: list[dict[str, Any]] = field(default_factory=list)  # class, precision, recall, f1
    mae: float | None = None
    rmse: float | None = None
    r2: float | None = None
    pairs: list[list[float]] = field(default_factory=list)  # (true, predicted) samples
    # Per sample (up to 10k): index, true, predicted, confidence, loss; the GUI's predictions view.
    predictions: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""  # which run and why (run_choice), one line
    warning: str | None = None  # the data differs from what the run trained on, and what to do


def _run_evaluation(handle: RunHandle) -> dict[str, Any] | None:
    try:
        result = None
        for event in handle.events():
            if event["type"] == "result":
                result = event["evaluation"]
            elif event["type"] == "failed":
                raise LayerloomError(f"evaluation failed: {event['reason']}")
        return result
    finally:
        handle.close()  # interrupted while waiting: leave no worker and no folder behind


def evaluate(
    opened: OpenProject,
    run_id: int | None = None,
    split: str = "validation",
    backend: Backend | None = None,
    own_data: bool = False,
) -> Evaluation:
    """Evaluate a run's best checkpoint (its last if it has no best) on one split, in a worker:
    the run ``choose_run`` names, on the project's dataset (``own_data``: the run's own)."""
    if split not in ("train", "validation", "test"):
        raise LayerloomError(f"split must be train, validation or test, not {split!r}")
    chosen = choose_run(opened, run_id, purpose="evaluate")
    summary, stored = chosen.summary, chosen.checkpoint
    plan = _plan_for(opened, summary.graph_version_id)
    spec, source = _dataset(opened, plan) if not own_data else run_dataset(opened, summary, plan)
    warning = dataset_warning(opened, summary, source.fingerprint(), own_data)
    settings = training.resolve(records.training_settings(summary.settings))
    job = Job(
        run_id=summary.id,
        plan=plan.to_json(),
        dataset=spec,
        settings=settings,
        kind="evaluate",
        resume_from=RESUME_STEM,
        base_dir=str(opened.path.resolve().parent),
        split=split,
    )
    handle = (backend or create_backend()).start(job, _checkpoint_as_files(stored))
    result = _run_evaluation(handle)
    if result is None:
        raise LayerloomError("evaluation ended without a result")
    known = set(Evaluation.__dataclass_fields__)
    fields = {k: v for k, v in result.items() if k in known and k not in ("run_id", "checkpoint")}
    checkpoint = {k: stored[k] for k in ("kind", "epoch", "step")}
    return Evaluation(
        run_id=summary.id, checkpoint=checkpoint, reason=chosen.reason, warning=warning, **fields
    )
