"""Training use cases shared by the GUI and the CLI: start, watch, cancel and resume runs, list
them (evaluating one is ``evaluating``'s). This is the orchestrator, the only writer of the
project file during training.

``start_run`` checks everything it can before a worker starts: the graph compiles to a plan, the
settings are valid, the dataset opens and fits the plan (``DatasetError`` otherwise). A run that is
refused there is **not recorded**: the runs table only holds runs that actually started. Then it
inserts the run (status ``running``) and starts its job on a ``Backend`` (``backends.base``: the
only thing this module knows of where training runs); the returned ``TrainingSession`` records the
job's events (``poll()`` for a GUI timer, ``events()`` for the CLI) and fetches its checkpoints
through the job's ``RunHandle``.

A resumed run is a new run that trains the resumed run's graph version from its ``last``
checkpoint (weights and optimizer state), handed to the backend as files of the new job; the link
lives in its settings JSON as ``{"resume": {"run": R, "epoch": E, "step": S}}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.warm_start import warm_start
from layerloom.backends import records
from layerloom.backends.base import Backend, JobState, RunHandle
from layerloom.backends.protocol import TERMINAL, Event, Job, checkpoint_files, serialise
from layerloom.backends.records import RunSummary
from layerloom.backends.registry import DEFAULT as DEFAULT_BACKEND
from layerloom.backends.registry import REMOTE_PREFIX, create_backend
from layerloom.nodes import training
from layerloom.nodes.compile import build_plan
from layerloom.nodes.errors import LayerloomError, UsageError
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.project import Project
from layerloom.nodes.serialize import graph_from_dict

__all__ = [
    "PreparedRun",
    "attach_job",
    "attach_run",
    "attachable_run",
    "begin_run",
    "follow_job",
    "launch_failed",
    "launch_run",
    "prepare_run",
    "runs_without_waiting",
    "stop_run",
    "run_worker",
    "serialise_event",
    "RunSummary",
    "TrainingSession",
    "runs",
    "start_run",
]


def _conn(opened: OpenProject) -> Any:
    project = opened.project
    return getattr(project, "conn", None) or project.db.conn


RESUME_STEM = "resume"  # the checkpoint a resumed or evaluated job starts from, in its folder


def _checkpoint_reader(handle: RunHandle) -> records.ReadCheckpoint:
    def read(stem: str) -> tuple[bytes, bytes]:
        weights, optimizer = checkpoint_files(stem)
        return handle.fetch(str(weights)), handle.fetch(str(optimizer))

    return read


def _checkpoint_as_files(stored: dict[str, Any]) -> dict[str, bytes]:
    weights, optimizer = checkpoint_files(RESUME_STEM)
    return {str(weights): stored["weights"], str(optimizer): stored["optimizer"] or b""}


class TrainingSession:
    """One started run: its job (a ``RunHandle``) and the recorder of its events."""

    def __init__(
        self, opened: OpenProject, run_id: int, handle: RunHandle, recorded_seq: int = 0
    ) -> None:
        self.opened = opened
        self.run_id = run_id
        self.handle = handle
        self.recorder = records.Recorder(_conn(opened), run_id, _checkpoint_reader(handle))
        self.started: Event | None = None  # the worker's ``started`` event, once it arrives
        self.last_event: Event | None = None
        self.recorded_seq = recorded_seq  # what an earlier reader already recorded

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

    @property
    def last_seq(self) -> int:
        return self.last_event["seq"] if self.last_event else self.recorded_seq

    def poll(self) -> list[Event]:
        """Record and return whatever arrived (never blocks): for a GUI timer. A checkpoint that a
        later one of the same kind in the same batch replaces is not fetched (a re-attached
        reader catching up on hours of events fetches each kind once)."""
        events = self.handle.poll()
        newest = {e["kind"]: e["seq"] for e in events if e["type"] == "checkpoint"}
        return [
            event
            if event["type"] == "checkpoint" and newest[event["kind"]] != event["seq"]
            else self.record(event)
            for event in events
        ]

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Record and yield events until the run ends, from the first one not yet recorded."""
        for event in self.handle.events(after=self.last_seq, timeout=timeout):
            yield self.record(event)

    def cancel(self) -> None:
        """Ask the job to stop after its current batch; it checkpoints and reports 'cancelled'."""
        self.handle.stop()

    def kill(self) -> None:
        """End the job now (no checkpoint); its 'failed' event says so."""
        self.handle.kill()

    def detach(self) -> None:
        """Stop recording; the job goes on where its backend allows (``attach_run`` resumes)."""
        self.handle.detach()

    def wait(self) -> str:
        """Record every remaining event; return the final status."""
        for _ in self.events():
            pass
        self.handle.wait()
        return self.status

    def close(self) -> None:
        """End the job if it still runs and release it (the project has its files)."""
        self.handle.close()
        for event in self.handle.events(after=self.last_seq):  # a killed job's last word
            self.record(event)


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
    backend: Backend | None = None,
    init_run_id: int | None = None,
) -> TrainingSession:
    """Check, record and start a run. ``settings`` override the project's stored ones;
    ``init_run_id``: a new run starting from that run's weights (``warm_start``)."""
    backend = backend or create_backend()
    # A host that cannot be reached is refused before anything is recorded.
    prepared = prepare_run(
        opened, settings, resume_run_id, backend, check=backend.check, init_run_id=init_run_id
    )
    try:
        handle = launch_run(prepared)
    except (OSError, LayerloomError) as error:
        raise launch_failed(opened, prepared, error) from error
    return begin_run(opened, prepared, handle)


# start_run in three steps, for a face that must not wait on the network on its own thread (the
# GUI): ``prepare_run`` and ``begin_run`` use the project (its connection belongs to the thread
# that opened it), ``launch_run`` only the backend (an upload and a launch over SSH), so it may
# run on a worker thread in between. ``backend.check()`` may likewise be called there first.
@dataclass
class PreparedRun:
    """A run checked and recorded (status running), its job not yet started."""

    run_id: int
    job: Job
    files: dict[str, bytes] | None
    backend: Backend


def prepare_run(
    opened: OpenProject,
    settings: dict[str, Any] | None = None,
    resume_run_id: int | None = None,
    backend: Backend | None = None,
    check: Callable[[], None] | None = None,
    init_run_id: int | None = None,
) -> PreparedRun:
    """Check the graph, settings and data, call ``check`` (the backend's, where the caller has
    not already), then record the run."""
    conn = _conn(opened)
    if init_run_id is not None and resume_run_id is not None:
        raise UsageError("--init-from starts a new run; --resume continues one: give one")
    overrides = dict(settings or {})
    resume: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    version_id: int | None = None
    if resume_run_id is None:
        base = training.load(opened.project)
    else:
        previous, last = _resume_point(opened, resume_run_id)
        version_id = previous.graph_version_id  # the weights fit that graph, not today's
        base = records.training_settings(previous.settings)
        resume = {"run": resume_run_id, "epoch": last["epoch"], "step": last["step"]}
    resolved = training.resolve(base, **overrides)
    if resume is not None and resolved["epochs"] <= resume["epoch"]:
        raise training.SettingsError(
            f"run {resume_run_id} already trained {resume['epoch']} epoch(s); "
            f"ask for more (--epochs N with N > {resume['epoch']})"
        )
    # Everything is checked on the graph in memory BEFORE anything is written: a refused run
    # (invalid graph, bad data or settings, an unreachable host) leaves the file's bytes as they
    # were, not even a new graph version.
    if version_id is None:
        plan = build_plan(opened.graph, opened.registry, _model_name(opened))
    else:
        plan = _plan_for(opened, version_id)
    augmentation = training.augmentation_problem(resolved, plan)
    if augmentation:
        raise training.SettingsError(augmentation)
    spec, source = _dataset(opened, plan)
    fingerprint = source.fingerprint()
    # The run's own dataset, so `evaluate` can name it when the project's data has changed since,
    # and how it reads raw inputs (column order, vocabularies, image size): predict and export
    # then answer as the model was trained, whatever the project's data becomes.
    contract = source.input_contract(plan, source.check(plan)).to_json()
    stored = {**resolved, "dataset": spec, "input_contract": contract}
    stored |= {"resume": resume} if resume else {}
    warm = None if init_run_id is None else warm_start(opened, conn, init_run_id)
    stored |= warm.stored if warm is not None else {}
    backend = backend or create_backend()
    if check is not None:
        check()
    if version_id is None:
        version_id = opened.save("before training")
    run_id = records.insert_run(conn, version_id, stored, fingerprint, backend.info())
    job = Job(
        run_id=run_id,
        plan=plan.to_json(),
        dataset=spec,
        settings=resolved,
        resume_from=RESUME_STEM if resume is not None else None,
        initial_epoch=resume["epoch"] if resume else 0,
        base_dir=str(opened.path.resolve().parent),
        dataset_fingerprint=fingerprint,
        options=warm.options if warm else {},
    )
    files = _checkpoint_as_files(last) if last is not None else None
    if warm is not None:
        files = warm.files
    return PreparedRun(run_id, job, files, backend)


def launch_run(prepared: PreparedRun) -> RunHandle:
    """Start the prepared job on its backend; touches no project, so any thread may call it."""
    return prepared.backend.start(prepared.job, prepared.files)


def launch_failed(opened: OpenProject, prepared: PreparedRun, error: Exception) -> LayerloomError:
    """Record that the prepared run never started; the error to raise or show."""
    records.Recorder(_conn(opened), prepared.run_id, lambda stem: (b"", b"")).record(
        {"seq": 1, "type": "failed", "reason": f"cannot start the worker: {error}"}
    )
    return LayerloomError(f"cannot start the training worker: {error}")


def begin_run(opened: OpenProject, prepared: PreparedRun, handle: RunHandle) -> TrainingSession:
    """Record the started job's id and follow it."""
    records.set_job(_conn(opened), prepared.run_id, handle.job_id)
    return TrainingSession(opened, prepared.run_id, handle)


def _recorded_run(opened: OpenProject, run_id: int) -> RunSummary:
    found = records.summaries(_conn(opened), run_id)
    if not found:
        raise LayerloomError(f"{opened.path.name} has no run {run_id}")
    return found[0]


def backend_of(summary: RunSummary) -> Backend:
    """The backend a recorded run ran on (LayerloomError when it is not available here)."""
    return create_backend(summary.backend or DEFAULT_BACKEND)


def attach_run(opened: OpenProject, run_id: int) -> TrainingSession:
    """Follow and record a run that is still running (or ended unrecorded) from the last event
    recorded: nothing is lost and nothing is recorded twice."""
    summary = attachable_run(opened, run_id)
    return follow_job(opened, summary, attach_job(summary))


# attach_run in three steps, like start_run: only ``attach_job`` reaches the backend.
def attachable_run(opened: OpenProject, run_id: int) -> RunSummary:
    """The run to attach to (LayerloomError when there is nothing to attach to)."""
    summary = _recorded_run(opened, run_id)
    if summary.status != records.RUNNING and summary.status != records.INTERRUPTED:
        raise LayerloomError(f"run {run_id} is {summary.status}: there is nothing to attach to")
    if not summary.job_id:
        raise LayerloomError(f"run {run_id} has no job to attach to (it never started)")
    return summary


def attach_job(summary: RunSummary) -> RunHandle:
    """A handle on the run's job, from its backend; touches no project (any thread)."""
    return backend_of(summary).attach(summary.job_id)


def follow_job(opened: OpenProject, summary: RunSummary, handle: RunHandle) -> TrainingSession:
    """Record the run from this process on, from its last recorded event."""
    records.take_over(_conn(opened), summary.id)
    return TrainingSession(opened, summary.id, handle, recorded_seq=summary.last_seq or 0)


def stop_run(opened: OpenProject, run_id: int) -> str:
    """Ask a running run's job to stop resumably (it checkpoints, then reports 'cancelled');
    whichever process records it records that. Returns what was done, in words."""
    summary = _recorded_run(opened, run_id)
    if summary.status != records.RUNNING or not summary.job_id:
        raise LayerloomError(f"run {run_id} is {summary.status}, not running")
    backend = backend_of(summary)
    if backend.state(summary.job_id) is not JobState.RUNNING:
        raise LayerloomError(f"run {run_id}'s job is no longer running on {summary.backend}")
    handle = backend.attach(summary.job_id)
    try:
        handle.stop()
    finally:
        handle.detach()
    return f"asked run {run_id} to stop after its current batch ({summary.backend})"


def job_state(backend_name: str | None, job_id: str | None) -> JobState:
    """What a run's backend says of its job; UNKNOWN when that backend is not available here."""
    try:
        return create_backend(backend_name or DEFAULT_BACKEND).state(job_id)
    except LayerloomError:
        return JobState.UNKNOWN


def runs(opened: OpenProject) -> list[RunSummary]:
    """Every run of the project, oldest first, with final and best metrics. A run whose job its
    backend confirms ended, and whose recording process died (a crashed GUI, a killed CLI), is
    marked "interrupted" here, so it can be resumed; one still running somewhere is left alone.
    A project opened read-only is written only when there is such a run to mark (then through a
    writable connection of its own); where the file cannot be written, the run is listed as
    interrupted all the same."""
    conn = _conn(opened)
    if not opened.project.readonly:
        records.mark_interrupted(conn, job_state)
        return records.summaries(conn)
    stale = records.stale_runs(conn, job_state)
    if not stale:
        return records.summaries(conn)
    try:
        writable = Project.open(opened.path)
    except LayerloomError:  # a read-only file or folder: show what a writer would record
        return [records.as_interrupted(r) if r.id in stale else r for r in records.summaries(conn)]
    with writable:
        records.mark_interrupted(writable.conn, job_state)
        return records.summaries(writable.conn)


def runs_without_waiting(opened: OpenProject) -> list[RunSummary]:
    """``runs`` for a face that must not wait on the network: only backends on this machine are
    asked whether a job still runs; a remote run whose recorder is gone stays "running" until
    someone attaches to it (which finds out, off that face's thread)."""

    def here_only(backend_name: str | None, job_id: str | None) -> JobState:
        if (backend_name or "").startswith(REMOTE_PREFIX):
            return JobState.UNKNOWN
        return job_state(backend_name, job_id)

    conn = _conn(opened)
    records.mark_interrupted(conn, here_only)
    return records.summaries(conn)


def serialise_event(event: Event) -> str:
    """An event as the one JSON line the protocol defines (``--json`` output)."""
    return serialise(event)


def run_worker(job_path: str) -> int:
    """Be the worker for the job file ``job_path`` (``layerloom worker``): train or evaluate."""
    from layerloom.backends.worker import main

    return main(job_path)
