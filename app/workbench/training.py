"""Training use cases shared by the GUI and the CLI: start, watch, cancel and resume runs, list
them, evaluate one. This is the orchestrator, the only writer of the project file during training.

``start_run`` checks everything it can before a worker starts: the graph compiles to a plan, the
settings are valid, the dataset opens and fits the plan (``DatasetError`` otherwise). A run that is
refused there is **not recorded**: the runs table only holds runs that actually started. Then it
inserts the run (status ``running``) and launches a worker; the returned ``TrainingSession``
records the worker's events (``poll()`` for a GUI timer, ``events()`` for the CLI).

A resumed run is a new run that trains the resumed run's graph version from its ``last``
checkpoint (weights and optimizer state); the link lives in its settings JSON as
``{"resume": {"run": R, "epoch": E, "step": S}}``, so no schema change was needed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.backends import records
from layerloom.backends.local import LocalBackend, RunProcess
from layerloom.backends.protocol import TERMINAL, Event, Job, checkpoint_files
from layerloom.backends.records import RunSummary
from layerloom.nodes import training
from layerloom.nodes.compile import build_plan
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.serialize import graph_from_dict

__all__ = ["Evaluation", "RunSummary", "TrainingSession", "evaluate", "runs", "start_run"]


def _conn(opened: OpenProject) -> Any:
    project = opened.project
    return getattr(project, "conn", None) or project.db.conn


def _read_checkpoint(stem: str) -> tuple[bytes, bytes]:
    weights, optimizer = checkpoint_files(stem)
    return weights.read_bytes(), optimizer.read_bytes()


class TrainingSession:
    """One started run: its worker process and the recorder of its events."""

    def __init__(self, opened: OpenProject, run_id: int, process: RunProcess, job: Job) -> None:
        self.opened = opened
        self.run_id = run_id
        self.process = process
        self.job = job
        self.recorder = records.Recorder(_conn(opened), run_id, _read_checkpoint)
        self.started: Event | None = None  # the worker's ``started`` event, once it arrives
        self.last_event: Event | None = None

    @property
    def status(self) -> str:
        return self.recorder.status

    @property
    def error(self) -> str | None:
        return self.recorder.error

    @property
    def done(self) -> bool:
        return self.last_event is not None and self.last_event["type"] in TERMINAL

    def record(self, event: Event) -> Event:
        if event["type"] == "started":
            self.started = event
        self.recorder.record(event)
        self.last_event = event
        return event

    def poll(self) -> list[Event]:
        """Record and return whatever arrived (never blocks): for a GUI timer."""
        return [self.record(event) for event in self.process.poll()]

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Record and yield events until the run ends."""
        for event in self.process.events(timeout=timeout):
            yield self.record(event)

    def cancel(self) -> None:
        """Ask the worker to stop after its current batch; it checkpoints and reports 'cancelled'."""
        self.process.cancel()

    def wait(self) -> str:
        """Record every remaining event; return the final status."""
        for _ in self.events():
            pass
        self.process.wait()
        return self.status

    def close(self) -> None:
        """Stop the worker if it still runs, and remove its folder (the project has the files)."""
        if self.process.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        for event in self.process.poll():  # record the synthesised 'failed' of a killed worker
            self.record(event)
        shutil.rmtree(self.job.job_dir, ignore_errors=True)


def _plan_for(opened: OpenProject, version_id: int) -> BuildPlan:
    graph = graph_from_dict(opened.project.graph(version_id), opened.registry)
    return build_plan(graph, opened.registry, _model_name(opened))


def _model_name(opened: OpenProject) -> str:
    name = "".join(c if c.isalnum() else "_" for c in opened.path.stem).strip("_")
    return name or "model"


def _dataset(opened: OpenProject, plan: BuildPlan) -> tuple[dict[str, Any], Any]:
    """The dataset spec and its source, checked against the plan (DatasetError when it does not
    fit). Numpy only: a bad dataset is refused before any worker pays TensorFlow's start-up."""
    from layerloom.nodes.datasets import dataset_spec_for, open_source

    spec = dataset_spec_for(opened)
    source = open_source(spec, opened.path.resolve().parent)
    source.check(plan)
    return spec, source


def _resume_point(opened: OpenProject, run_id: int) -> tuple[RunSummary, dict[str, Any]]:
    found = records.summaries(_conn(opened), run_id)
    if not found:
        raise LayerloomError(f"{opened.path.name} has no run {run_id}")
    last = records.checkpoint(_conn(opened), run_id, "last")
    if last is None:
        raise LayerloomError(f"run {run_id} has no checkpoint to resume from")
    return found[0], last


def start_run(
    opened: OpenProject,
    settings: dict[str, Any] | None = None,
    resume_run_id: int | None = None,
    backend: LocalBackend | None = None,
) -> TrainingSession:
    """Check, record and start a run. ``settings`` override the project's stored ones."""
    conn = _conn(opened)
    overrides = dict(settings or {})
    resume: dict[str, Any] | None = None
    if resume_run_id is None:
        version_id = opened.save("before training")
        base = training.load(opened.project)
    else:
        previous, last = _resume_point(opened, resume_run_id)
        version_id = previous.graph_version_id  # the weights fit that graph, not today's
        base = {k: v for k, v in previous.settings.items() if k != "resume"}
        resume = {"run": resume_run_id, "epoch": last["epoch"], "step": last["step"]}
    resolved = training.resolve(base, **overrides)
    if resume is not None and resolved["epochs"] <= resume["epoch"]:
        raise training.SettingsError(
            f"run {resume_run_id} already trained {resume['epoch']} epoch(s); "
            f"ask for more (--epochs N with N > {resume['epoch']})"
        )
    plan = _plan_for(opened, version_id)
    spec, source = _dataset(opened, plan)
    fingerprint = source.fingerprint()
    stored = {**resolved, **({"resume": resume} if resume else {})}
    run_id = records.insert_run(conn, version_id, stored, fingerprint)
    job_dir = Path(tempfile.mkdtemp(prefix=f"layerloom-run-{run_id}-"))
    resume_from = None
    if resume is not None:
        resume_from = str(job_dir / "resume")
        weights, optimizer = checkpoint_files(resume_from)
        weights.write_bytes(last["weights"])
        optimizer.write_bytes(last["optimizer"])
    job = Job(
        run_id=run_id,
        plan=plan.to_json(),
        dataset=spec,
        settings=resolved,
        job_dir=str(job_dir),
        resume_from=resume_from,
        initial_epoch=resume["epoch"] if resume else 0,
        base_dir=str(opened.path.resolve().parent),
    )
    try:
        process = (backend or LocalBackend()).start(job)
    except OSError as error:
        records.Recorder(conn, run_id, _read_checkpoint).record(
            {"seq": 1, "type": "failed", "reason": f"cannot start the worker: {error}"}
        )
        raise LayerloomError(f"cannot start the training worker: {error}") from error
    return TrainingSession(opened, run_id, process, job)


def runs(opened: OpenProject) -> list[RunSummary]:
    """Every run of the project, oldest first, with final and best metrics. Runs whose recording
    process died (a crashed GUI or a killed CLI) are marked "interrupted" here, so they can be resumed."""
    conn = _conn(opened)
    records.mark_interrupted(conn)
    return records.summaries(conn)


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


def _run_evaluation(process: RunProcess) -> dict[str, Any] | None:
    try:
        result = None
        for event in process.events():
            if event["type"] == "result":
                result = event["evaluation"]
            elif event["type"] == "failed":
                raise LayerloomError(f"evaluation failed: {event['reason']}")
        return result
    finally:
        if process.process.poll() is None:  # interrupted while waiting: leave no worker behind
            process.kill()
        process.wait()


def evaluate(
    opened: OpenProject,
    run_id: int | None = None,
    split: str = "validation",
    backend: LocalBackend | None = None,
) -> Evaluation:
    """Evaluate a run's best checkpoint (its last if it has no best) on one split, in a worker."""
    if split not in ("train", "validation", "test"):
        raise LayerloomError(f"split must be train, validation or test, not {split!r}")
    conn = _conn(opened)
    found = records.summaries(conn, run_id) if run_id is not None else records.summaries(conn)
    if run_id is not None and not found:
        raise LayerloomError(f"{opened.path.name} has no run {run_id}")
    chosen = None
    for summary in reversed(found):
        stored = records.checkpoint(conn, summary.id, "best") or records.checkpoint(
            conn, summary.id, "last"
        )
        if stored is not None:
            chosen = (summary, stored)
            break
    if chosen is None:
        which = f"run {run_id} has" if run_id is not None else f"{opened.path.name} has no run with"
        raise LayerloomError(f"{which} no checkpoint to evaluate; train first")
    summary, stored = chosen
    plan = _plan_for(opened, summary.graph_version_id)
    spec, _ = _dataset(opened, plan)
    settings = training.resolve({k: v for k, v in summary.settings.items() if k != "resume"})
    job_dir = Path(tempfile.mkdtemp(prefix=f"layerloom-eval-{summary.id}-"))
    try:
        weights, optimizer = checkpoint_files(job_dir / "evaluate")
        weights.write_bytes(stored["weights"])
        optimizer.write_bytes(stored["optimizer"] or b"")
        job = Job(
            run_id=summary.id,
            plan=plan.to_json(),
            dataset=spec,
            settings=settings,
            job_dir=str(job_dir),
            kind="evaluate",
            resume_from=str(job_dir / "evaluate"),
            base_dir=str(opened.path.resolve().parent),
            split=split,
        )
        result = _run_evaluation((backend or LocalBackend()).start(job))
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    if result is None:
        raise LayerloomError("evaluation ended without a result")
    known = set(Evaluation.__dataclass_fields__)
    fields = {k: v for k, v in result.items() if k in known and k not in ("run_id", "checkpoint")}
    checkpoint = {k: stored[k] for k in ("kind", "epoch", "step")}
    return Evaluation(run_id=summary.id, checkpoint=checkpoint, **fields)
