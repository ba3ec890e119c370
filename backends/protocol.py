"""The worker protocol: one job format in, one JSON-Lines event stream out. No TensorFlow here.

A **job** is one JSON file the orchestrator writes and the worker reads (``Job``). A **checkpoint**
is a pair of files sharing a stem: ``<stem>.weights.h5`` (``model.save_weights``) and
``<stem>.optimizer.npz`` (the optimizer's own variables, ``iterations`` included, as plain arrays:
never pickle). Events name the stem; ``checkpoint_files`` gives the two paths.

A **job folder** belongs to one job: ``job.json``, the files placed there before it starts (a
checkpoint to resume from), ``events.jsonl`` (every event, appended and flushed), ``worker.log``
(stderr), ``pid`` (the worker's process id) and ``exit`` (its exit code, written last). A backend
creates it (locally or on another host); a reader that attaches later reads ``events.jsonl`` from
the last sequence number it recorded.

Every **event** is one line of JSON (``layerloom.nodes.events``), on the worker's stdout and in
``events.jsonl``: ``{"seq": n, "type": t, "time": unix seconds, ...fields}``, seq strictly
increasing from 1. Types and their fields:

- ``started``: kind ('train', 'evaluate', 'predict', 'inspect', 'explain', 'tensorboard'), params, devices,
  steps_per_epoch, samples (per split); train jobs add accelerator ('cpu', 'gpu', 'tpu'),
  keras_backend, device_count, strategy, batch_size, task, epochs (the total), initial_epoch,
  initial_step (optimizer iterations restored from a checkpoint, 0 for a new run), loss,
  metrics, monitor (the metric 'best' means: val_loss, or loss without a validation split)
- ``batch``: epoch (1-based), step (in the epoch, 1-based), global_step, metrics (running means
  over the epoch so far, ``loss`` included), samples_per_second (since the previous batch event)
- ``epoch``: epoch, global_step, metrics (train names and ``val_*``), lr, seconds
- ``checkpoint``: kind ('best' or 'last'), path (the stem, relative to the job folder), epoch
  (epochs completed), step (optimizer iterations). 'best' and 'last' may share one stem.
- ``health``: epoch, global_step, nodes (``{node: {figure: value or null}}`` in graph order, the
  figures of ``nodes.health.FIGURES``; sampled every few steps, ``backends.health``)
- ``log``: level ('info', 'warning', 'error'), message
- ``result``: one dict per job kind: evaluation (evaluate jobs), inspection (inspect jobs,
  ``backends.keras_inspect``), explanation (explain jobs, ``backends.keras_explain``),
  tensorboard (tensorboard jobs, ``backends.keras_tensorboard``)
- ``prediction``: answer (what the output holds: ``backends.keras_predict.ANSWERS``), output (its
  node), rows (one per input example: ``keras_predict.prediction_rows``; predict jobs only)
- ``finished``: status ('finished', 'cancelled' or 'diverged'), metrics (last epoch's),
  best_epoch, best (the monitored value then), epochs (completed), reason (optional: why, in
  words; a diverged run's says where the loss stopped being finite and what to try). A cancelled
  run's last checkpoint comes first; a diverged run stops at the first NaN/inf loss and never
  announces a checkpoint of non-finite weights (its last finite one stays the run's ``last``).
  nonfinite (optional, diverged runs): ``{"node", "where": "output"|"loss"|"gradient", "step",
  "rows"}``,
  the first non-finite value of the replayed step (``backends.nan_replay``).
- ``failed``: reason (one readable line, never a traceback), detail (the traceback, optional)

``finished`` and ``failed`` are terminal: nothing follows them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from layerloom.nodes.events import (
    EVENT_LOG,
    Event,
    EventTypes,
    EventWriter,
    ProtocolError,
    serialise,
)

__all__ = [
    "Event",
    "EventWriter",
    "Job",
    "ProtocolError",
    "TERMINAL",
    "TRAINING_EVENTS",
    "check_event",
    "checkpoint_files",
    "event_writer",
    "make_event",
    "parse_line",
    "serialise",
]

JOB_FORMAT = 1

REQUIRED: dict[str, tuple[str, ...]] = {
    "started": ("kind", "params", "devices", "steps_per_epoch", "samples"),
    "batch": ("epoch", "step", "global_step", "metrics", "samples_per_second"),
    "epoch": ("epoch", "global_step", "metrics", "lr"),
    "checkpoint": ("kind", "path", "epoch", "step"),
    "health": ("epoch", "global_step", "nodes"),
    "log": ("level", "message"),
    "result": (),  # evaluation, inspection or explanation: one per job kind
    "prediction": ("answer", "output", "rows"),
    "finished": ("status", "metrics", "best_epoch"),
    "failed": ("reason",),
}
TERMINAL = frozenset({"finished", "failed"})
FINISHED_STATUSES = ("finished", "cancelled", "diverged")
TRAINING_EVENTS = EventTypes(REQUIRED, TERMINAL, {("finished", "status"): FINISHED_STATUSES})


@dataclass
class Job:
    """What a worker needs to run: everything by value except the checkpoint files it resumes."""

    run_id: int
    plan: dict[str, Any]  # BuildPlan.to_json()
    dataset: dict[str, Any]  # a dataset spec (nodes.datasets)
    settings: dict[str, Any]  # resolved training settings (nodes.training)
    job_dir: str = ""  # the job folder; the backend that starts the job chooses it
    kind: str = "train"  # 'train', 'evaluate', ...: backends.job_control.JOB_KINDS
    resume_from: str | None = None  # checkpoint stem in the job folder: weights + optimizer state
    initial_epoch: int = 0  # epochs already completed by the run being resumed
    base_dir: str | None = None  # relative dataset paths are resolved against this (project folder)
    split: str = "validation"  # evaluate jobs: which split to evaluate
    dataset_fingerprint: str | None = None  # the data's content: a remote uploads it once
    options: dict[str, Any] = field(default_factory=dict)  # what a job kind needs besides these
    format: int = field(default=JOB_FORMAT)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def resume_stem(self) -> Path | None:
        """The checkpoint to start from, as a path (it is named relative to the job folder)."""
        return Path(self.job_dir, self.resume_from) if self.resume_from else None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        if data.get("format", JOB_FORMAT) > JOB_FORMAT:
            raise ProtocolError(
                f"the job was written by a newer Layerloom (format {data['format']}); "
                f"this worker reads format {JOB_FORMAT}"
            )
        known = set(cls.__dataclass_fields__)
        missing = [n for n in ("run_id", "plan", "dataset", "settings") if n not in data]
        if missing:
            raise ProtocolError(f"the job is missing {', '.join(missing)}")
        if not isinstance(data.get("kind", "train"), str):
            raise ProtocolError(f"the job kind must be a name, not {data['kind']!r}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> Job:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ProtocolError(f"cannot read the job file {path}: {error}") from error
        if not isinstance(data, dict):
            raise ProtocolError(f"the job file {path} does not hold a JSON object")
        return cls.from_json(data)


def checkpoint_files(stem: str | Path) -> tuple[Path, Path]:
    """The (weights, optimizer) files of the checkpoint ``stem``."""
    stem = Path(stem)
    return stem.with_name(stem.name + ".weights.h5"), stem.with_name(stem.name + ".optimizer.npz")


def make_event(seq: int, type_: str, **fields: Any) -> Event:
    return TRAINING_EVENTS.make(seq, type_, **fields)


def check_event(event: Any) -> Event:
    """Return ``event`` when it is well-formed; ProtocolError names what is wrong."""
    return TRAINING_EVENTS.check(event)


def parse_line(line: str | bytes) -> Event:
    return TRAINING_EVENTS.parse(line)


def event_writer(*sinks: IO[str], first_seq: int = 1) -> EventWriter:
    """A writer of training events to ``sinks`` (stdout and the job's event log)."""
    return EventWriter(TRAINING_EVENTS, *sinks, first_seq=first_seq)


# The files of a job folder (see the module docstring).
JOB_FILE, EVENT_LOG, WORKER_LOG, PID_FILE, EXIT_FILE = (
    "job.json",
    EVENT_LOG,
    "worker.log",
    "pid",
    "exit",
)
