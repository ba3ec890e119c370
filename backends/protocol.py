"""The worker protocol: one job format in, one JSON-Lines event stream out. No TensorFlow here.

A **job** is one JSON file the orchestrator writes and the worker reads (``Job``). A **checkpoint**
is a pair of files sharing a stem: ``<stem>.weights.h5`` (``model.save_weights``) and
``<stem>.optimizer.npz`` (the optimizer's own variables, ``iterations`` included, as plain arrays:
never pickle). Events name the stem; ``checkpoint_files`` gives the two paths.

Every **event** is one line of JSON on the worker's stdout: ``{"seq": n, "type": t, "time": unix
seconds, ...fields}``, seq strictly increasing from 1. Types and their fields:

- ``started``: kind ('train' or 'evaluate'), params, devices, steps_per_epoch, samples (per
  split); train jobs add strategy, batch_size, task, epochs (the total), initial_epoch,
  initial_step (optimizer iterations restored from a checkpoint, 0 for a new run), loss, metrics,
  monitor (the metric 'best' means: val_loss, or loss without a validation split)
- ``batch``: epoch (1-based), step (in the epoch, 1-based), global_step, metrics (running means
  over the epoch so far, ``loss`` included), samples_per_second (since the previous batch event)
- ``epoch``: epoch, global_step, metrics (train names and ``val_*``), lr, seconds
- ``checkpoint``: kind ('best' or 'last'), path (the stem), epoch (epochs completed), step
  (optimizer iterations). 'best' and 'last' may share one stem.
- ``log``: level ('info', 'warning', 'error'), message
- ``result``: evaluation (a dict; evaluate jobs only)
- ``finished``: status ('finished' or 'cancelled'), metrics (last epoch's), best_epoch, best
  (the monitored value then), epochs (completed). A cancelled run's last checkpoint comes first.
- ``failed``: reason (one readable line, never a traceback), detail (the traceback, optional)

``finished`` and ``failed`` are terminal: nothing follows them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from layerloom.nodes.errors import LayerloomError

JOB_FORMAT = 1

REQUIRED: dict[str, tuple[str, ...]] = {
    "started": ("kind", "params", "devices", "steps_per_epoch", "samples"),
    "batch": ("epoch", "step", "global_step", "metrics", "samples_per_second"),
    "epoch": ("epoch", "global_step", "metrics", "lr"),
    "checkpoint": ("kind", "path", "epoch", "step"),
    "log": ("level", "message"),
    "result": ("evaluation",),
    "finished": ("status", "metrics", "best_epoch"),
    "failed": ("reason",),
}
TERMINAL = frozenset({"finished", "failed"})
FINISHED_STATUSES = ("finished", "cancelled")

Event = dict[str, Any]


class ProtocolError(LayerloomError):
    """A job file or an event line that does not follow the protocol."""


@dataclass
class Job:
    """What a worker needs to run: everything by value except the checkpoint files it resumes."""

    run_id: int
    plan: dict[str, Any]  # BuildPlan.to_json()
    dataset: dict[str, Any]  # a dataset spec (nodes.datasets)
    settings: dict[str, Any]  # resolved training settings (nodes.training)
    job_dir: str  # where the worker writes checkpoints; the orchestrator reads them from here
    kind: str = "train"  # 'train' or 'evaluate'
    resume_from: str | None = None  # checkpoint stem: weights + optimizer state
    initial_epoch: int = 0  # epochs already completed by the run being resumed
    base_dir: str | None = None  # relative dataset paths are resolved against this (project folder)
    split: str = "validation"  # evaluate jobs: which split to evaluate
    format: int = field(default=JOB_FORMAT)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        if data.get("format", JOB_FORMAT) > JOB_FORMAT:
            raise ProtocolError(
                f"the job was written by a newer Layerloom (format {data['format']}); "
                f"this worker reads format {JOB_FORMAT}"
            )
        known = set(cls.__dataclass_fields__)
        missing = [n for n in ("run_id", "plan", "dataset", "settings", "job_dir") if n not in data]
        if missing:
            raise ProtocolError(f"the job is missing {', '.join(missing)}")
        if data.get("kind", "train") not in ("train", "evaluate"):
            raise ProtocolError(f"unknown job kind {data['kind']!r}")
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
    event: Event = {"seq": seq, "type": type_, "time": round(time.time(), 3)}
    event.update(fields)
    return check_event(event)


def check_event(event: Any) -> Event:
    """Return ``event`` when it is well-formed; ProtocolError names what is wrong."""
    if not isinstance(event, dict):
        raise ProtocolError(f"an event must be a JSON object, got {type(event).__name__}")
    seq, type_ = event.get("seq"), event.get("type")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ProtocolError(f"event seq must be a positive integer, got {seq!r}")
    if type_ not in REQUIRED:
        raise ProtocolError(f"unknown event type {type_!r}")
    if not isinstance(event.get("time"), (int, float)):
        raise ProtocolError(f"{type_} event {seq} has no time")
    missing = [name for name in REQUIRED[type_] if name not in event]
    if missing:
        raise ProtocolError(f"{type_} event {seq} is missing {', '.join(missing)}")
    if type_ == "finished" and event["status"] not in FINISHED_STATUSES:
        raise ProtocolError(f"finished event {seq} has unknown status {event['status']!r}")
    return event


def serialise(event: Event) -> str:
    """One line of JSON; NaN/inf (a diverged loss) become null so every reader can parse it."""
    return json.dumps(_finite(event), separators=(",", ":"), allow_nan=False)


def parse_line(line: str | bytes) -> Event:
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    try:
        data = json.loads(line)
    except ValueError as error:
        raise ProtocolError(f"not a JSON event line: {line[:80]!r}") from error
    return check_event(data)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class EventWriter:
    """Numbers events and writes one flushed line each; safe to call from several threads.

    Keras runs batch callbacks on a thread pool, so numbering and writing share one lock: the
    stream's seq order is its line order.
    """

    def __init__(self, stream: IO[str], first_seq: int = 1) -> None:
        self._stream = stream
        self._next = first_seq
        self._lock = threading.Lock()
        self.closed = False  # set after a terminal event: later writes are dropped

    def emit(self, type_: str, **fields: Any) -> Event | None:
        with self._lock:
            if self.closed:
                return None
            event = make_event(self._next, type_, **fields)
            self._stream.write(serialise(event) + "\n")
            self._stream.flush()
            self._next += 1
            if type_ in TERMINAL:
                self.closed = True
            return event

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=message)
