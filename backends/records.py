"""How runs live in a project file: a worker's events become rows of ``runs``, ``metrics`` and
``checkpoints``, and rows become run summaries. Plain ``sqlite3`` on the project's connection.

Only the orchestrating process (GUI or CLI) calls this; the worker never opens the project.
Writes are small transactions: the batch events of an epoch are kept in memory and written with
that epoch's event (one commit per epoch, not per batch), and each checkpoint is one commit that
replaces the run's previous checkpoint of the same kind, so a file holds at most one ``best`` and
one ``last`` per run however long it trains.

Metric rows: ``split`` is ``"batch"`` for batch events (running means within the epoch, plus
``samples_per_second``), ``"train"`` / ``"validation"`` for an epoch's metrics (names as Keras gives
them, ``val_loss`` included) and the epoch's ``lr``. ``step`` is the optimizer's global step.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from layerloom.backends import health_records
from layerloom.backends.base import BackendInfo, JobState
from layerloom.backends.protocol import Event
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.job_folders import process_alive
from layerloom.nodes.project import write_transaction

RUNNING, FINISHED, CANCELLED, FAILED = "running", "finished", "cancelled", "failed"
# The loss became NaN/inf: stopped at once, resumable from its last finite checkpoint.
DIVERGED = "diverged"
INTERRUPTED = (
    "interrupted"  # nothing runs or records it any more; resumable from its last checkpoint
)
EXIT_REASONS = {FINISHED: "finished", CANCELLED: "stopped by the user"}

# Asked of a run's backend: ``JobState`` of the job (by backend name and job id).
JobStateOf = Callable[[str | None, str | None], JobState]


def _recorder_alive(host: str | None, pid: int | None) -> bool:
    """Whether the process recording a run may still be alive. One on another host cannot be
    asked and counts as alive; a run with no recorder on file has none."""
    if host and host != socket.gethostname():
        return True
    if not host or not pid:
        return False
    return process_alive(int(pid))


def mark_interrupted(conn: sqlite3.Connection, state_of: JobStateOf) -> list[int]:
    """Runs still "running" that nothing runs or records any more become "interrupted".

    A run is given up only when its backend confirms its job has ended (``JobState.ENDED``) AND
    the process that recorded its events is gone: a job whose host cannot be reached right now
    (``UNKNOWN``), or whose recorder is about to write its final event, stays "running".
    """
    stale = stale_runs(conn, state_of)
    if stale:
        with transaction(conn):
            conn.executemany(
                "UPDATE runs SET status = ?, error = ?, exit_reason = ?, finished_at = ?"
                " WHERE id = ?",
                [(INTERRUPTED, STALE_REASON, STALE_REASON, now(), r) for r in stale],
            )
    return stale


STALE_REASON = "the job and the process recording it ended without a final event"


def stale_runs(conn: sqlite3.Connection, state_of: JobStateOf) -> list[int]:
    """The runs ``mark_interrupted`` would mark, found without writing anything."""
    rows = conn.execute(
        "SELECT id, backend, job_id, recorder_host, recorder_pid FROM runs WHERE status = ?",
        [RUNNING],
    ).fetchall()
    return [
        rid
        for rid, backend, job_id, host, pid in rows
        if not _recorder_alive(host, pid) and state_of(backend, job_id) is JobState.ENDED
    ]


def as_interrupted(run: RunSummary) -> RunSummary:
    """A stale run as a writer would record it (for a file that cannot be written)."""
    from dataclasses import replace

    return replace(run, status=INTERRUPTED, error=STALE_REASON, exit_reason=STALE_REASON)


def take_over(conn: sqlite3.Connection, run_id: int) -> None:
    """This process records the run from now on (a re-attached reader); it is running again."""
    with transaction(conn):
        conn.execute(
            "UPDATE runs SET status = ?, error = NULL, exit_reason = NULL, finished_at = NULL,"
            " recorder_host = ?, recorder_pid = ? WHERE id = ?",
            [RUNNING, socket.gethostname(), os.getpid(), run_id],
        )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def transaction(conn: sqlite3.Connection) -> AbstractContextManager[None]:
    return write_transaction(conn, "cannot record the run in the project file")


def insert_run(
    conn: sqlite3.Connection,
    graph_version_id: int,
    settings: dict[str, Any],
    fingerprint: str,
    backend: BackendInfo,
) -> int:
    """A new run, recorded by this process, about to start on ``backend``."""
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO runs (graph_version_id, status, settings, dataset_fingerprint, created_at,"
            " backend, host, recorder_host, recorder_pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                graph_version_id,
                RUNNING,
                json.dumps(settings, sort_keys=True),
                fingerprint,
                now(),
                backend.name,
                backend.host,
                socket.gethostname(),
                os.getpid(),
            ],
        )
        return int(cursor.lastrowid)


def set_job(conn: sqlite3.Connection, run_id: int, job_id: str) -> None:
    """The backend's id of the run's job, once it started: what ``attach`` and liveness ask."""
    with transaction(conn):
        conn.execute("UPDATE runs SET job_id = ? WHERE id = ?", [job_id, run_id])


ReadCheckpoint = Callable[[str], tuple[bytes, bytes]]


class Recorder:
    """Writes one run's events into the project as they arrive."""

    def __init__(self, conn: sqlite3.Connection, run_id: int, read: ReadCheckpoint) -> None:
        self.conn = conn
        self.run_id = run_id
        self.read = read
        self.status = RUNNING
        self.error: str | None = None
        self._pending: list[tuple[Any, ...]] = []
        self._seq = 0
        self.skipped_checkpoints = 0
        self._last_read: tuple[str, tuple[bytes, bytes]] | None = None
        self.last_checkpoint: Event | None = None  # the newest 'last' checkpoint recorded

    def record(self, event: Event) -> None:
        self._seq = event["seq"]
        handler = getattr(self, f"_on_{event['type']}", None)
        if handler is not None:
            handler(event)

    def _mark_committed(self) -> None:
        """Inside a write: everything up to this event is in the file (a re-attached reader
        resumes after it; batches still pending are replayed, and ignored where already kept)."""
        self.conn.execute("UPDATE runs SET last_seq = ? WHERE id = ?", [self._seq, self.run_id])

    def _rows(self, event: Event, split: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        step = event.get("global_step")
        return [
            (self.run_id, event["seq"], event.get("epoch"), step, split, name, value)
            for name, value in values.items()
            # A diverged value (NaN, inf; null on the wire) is not a point a plot can draw.
            if isinstance(value, (int, float)) and math.isfinite(value)
        ]

    def _write_rows(self, rows: list[tuple[Any, ...]]) -> None:
        # OR IGNORE: a replayed event (re-attached remote run) must not fail on its primary key.
        self.conn.executemany(
            "INSERT OR IGNORE INTO metrics (run_id, seq, epoch, step, split, name, value)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _on_started(self, event: Event) -> None:
        with transaction(self.conn):
            self._mark_committed()
            self.conn.execute(
                "UPDATE runs SET started_at = ?, accelerator = ?, keras_backend = ?,"
                " device_count = ? WHERE id = ?",
                [
                    now(),
                    event.get("accelerator"),
                    event.get("keras_backend"),
                    event.get("device_count", len(event.get("devices") or [])),
                    self.run_id,
                ],
            )

    def _on_batch(self, event: Event) -> None:
        values = {**event["metrics"], "samples_per_second": event["samples_per_second"]}
        self._pending += self._rows(event, "batch", values)

    def _on_epoch(self, event: Event) -> None:
        metrics = event["metrics"]
        train = {k: v for k, v in metrics.items() if not k.startswith("val_")}
        validation = {k: v for k, v in metrics.items() if k.startswith("val_")}
        rows = self._pending + self._rows(event, "train", {**train, "lr": event["lr"]})
        rows += self._rows(event, "validation", validation)
        with transaction(self.conn):
            self._mark_committed()
            self._write_rows(rows)
        self._pending = []

    def _on_checkpoint(self, event: Event) -> None:
        path = event["path"]
        if self._last_read is None or self._last_read[0] != path:
            try:
                files = self.read(path)
            except (OSError, LayerloomError):
                # A reader far behind (re-attached after hours) may ask for a checkpoint the job
                # has since superseded and removed; the newer one is announced later.
                self.skipped_checkpoints += 1
                return
            self._last_read = (path, files)  # best and last often share one epoch's files
        weights, optimizer = self._last_read[1]
        with transaction(self.conn):
            self._mark_committed()
            self.conn.execute(
                "DELETE FROM checkpoints WHERE run_id = ? AND kind = ?",
                [self.run_id, event["kind"]],
            )
            self.conn.execute(
                "INSERT INTO checkpoints (run_id, kind, epoch, step, weights, optimizer, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    self.run_id,
                    event["kind"],
                    event["epoch"],
                    event["step"],
                    weights,
                    optimizer,
                    now(),
                ],
            )
        if event["kind"] == "last":
            self.last_checkpoint = event

    def _on_health(self, event: Event) -> None:
        # Its own small commit, without moving last_seq: batches still pending are replayed on
        # a re-attach, and the health rows of the replay are ignored where already kept.
        with transaction(self.conn):
            health_records.write_sample(self.conn, self.run_id, event)

    def _on_finished(self, event: Event) -> None:
        status = event["status"]
        if event.get("nonfinite"):  # a diverged run's first non-finite value, replayed
            with transaction(self.conn):
                health_records.write_nonfinite(self.conn, self.run_id, event)
        reason = event.get("reason") or EXIT_REASONS.get(status, status)
        # A diverged run's reason is also its error: `runs` and the GUI show what to try.
        self._finish(status, reason if status == DIVERGED else None, reason)

    def _on_failed(self, event: Event) -> None:
        self._finish(FAILED, event["reason"], event["reason"])

    def _finish(self, status: str, error: str | None, reason: str) -> None:
        self.status, self.error = status, error
        with transaction(self.conn):
            self._mark_committed()
            if self._pending:  # batches of an epoch that never ended (cancel, crash)
                self._write_rows(self._pending)
                self._pending = []
            self.conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, error = ?, exit_reason = ?"
                " WHERE id = ?",
                [status, now(), error, reason, self.run_id],
            )


PLACE = (
    "backend",
    "host",
    "job_id",
    "accelerator",
    "keras_backend",
    "device_count",
    "exit_reason",
    "last_seq",
    "dataset_fingerprint",
)
# An imported model's weights: a run that never trained (backend "import", no epochs or metrics),
# kept so that evaluate, predict, export and fine-tuning start from them (app.workbench.importing).
IMPORTED = "imported"
IMPORT_BACKEND = "import"


def insert_imported(
    conn: sqlite3.Connection, graph_version_id: int, source: str, weights: bytes, optimizer: bytes
) -> int:
    """The imported starting point of ``graph_version_id``: a run of status ``imported`` with one
    ``last`` checkpoint at epoch 0, in one transaction."""
    stamp = now()
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO runs (graph_version_id, status, settings, created_at, started_at,"
            " finished_at, backend, host, exit_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                graph_version_id,
                IMPORTED,
                json.dumps({"imported_from": source}),
                stamp,
                stamp,
                stamp,
                IMPORT_BACKEND,
                socket.gethostname(),
                f"imported from {source}",
            ],
        )
        run_id = int(cursor.lastrowid)
        conn.execute(
            "INSERT INTO checkpoints (run_id, kind, epoch, step, weights, optimizer, created_at)"
            " VALUES (?, 'last', 0, 0, ?, ?, ?)",
            [run_id, weights, optimizer, stamp],
        )
    return run_id


# Keys of a run's settings JSON that are facts about the run, not training settings: the run it
# resumes ({"run", "epoch", "step"}), the dataset spec it trained on (paths absolute) and how it
# reads raw inputs (nodes.datasets.contract), and the run whose weights it started from
# ({"run", "checkpoint", "epoch"}, ``train --init-from``).
RUN_FACTS = ("resume", "dataset", "input_contract", "init", "imported_from")


def training_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A run's stored settings without its facts (``RUN_FACTS``): what ``training.resolve`` takes."""
    return {k: v for k, v in settings.items() if k not in RUN_FACTS}


@dataclass
class RunSummary:
    id: int
    status: str
    graph_version_id: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    duration: float | None  # seconds from the worker's start to the end
    epochs: int  # epochs completed and recorded
    final_metrics: dict[str, float] = field(default_factory=dict)  # the last epoch's
    best_epoch: int | None = None
    best_metrics: dict[str, float] = field(default_factory=dict)  # the epoch of the best checkpoint
    error: str | None = None
    resumed_from: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    # Where and how it ran (None where the worker has not said yet).
    backend: str | None = None
    host: str | None = None
    job_id: str | None = None
    accelerator: str | None = None
    keras_backend: str | None = None
    device_count: int | None = None
    exit_reason: str | None = None
    last_seq: int | None = None  # the last event recorded and committed
    dataset_fingerprint: str | None = None  # of the data it trained on (nodes.datasets)


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return round(delta.total_seconds(), 3)


def epoch_metrics(conn: sqlite3.Connection, run_id: int, epoch: int) -> dict[str, float]:
    rows = conn.execute(
        "SELECT name, value FROM metrics WHERE run_id = ? AND epoch = ?"
        " AND split IN ('train', 'validation') ORDER BY seq",
        [run_id, epoch],
    ).fetchall()
    return {name: value for name, value in rows}


def summaries(conn: sqlite3.Connection, run_id: int | None = None) -> list[RunSummary]:
    """Every run (or one), oldest first."""
    where, args = ("WHERE id = ?", [run_id]) if run_id is not None else ("", [])
    rows = conn.execute(
        "SELECT id, status, graph_version_id, created_at, started_at, finished_at, error, settings,"
        f" {', '.join(PLACE)} FROM runs {where} ORDER BY id",
        args,
    ).fetchall()
    out = []
    for row in rows:
        rid, status, version, created, started, finished, error, settings_text = row[:8]
        place = dict(zip(PLACE, row[8:], strict=True))
        settings = json.loads(settings_text or "{}")
        last = conn.execute(
            "SELECT MAX(epoch) FROM metrics WHERE run_id = ? AND split IN ('train', 'validation')",
            [rid],
        ).fetchone()[0]
        best = checkpoint(conn, rid, "best", with_blobs=False)
        best_epoch = best["epoch"] if best else None
        out.append(
            RunSummary(
                id=rid,
                status=status,
                graph_version_id=version,
                created_at=created,
                started_at=started,
                finished_at=finished,
                duration=_seconds(started, finished),
                epochs=int(last or 0),
                final_metrics=epoch_metrics(conn, rid, last) if last else {},
                best_epoch=best_epoch,
                best_metrics=epoch_metrics(conn, rid, best_epoch) if best_epoch else {},
                error=error,
                resumed_from=(settings.get("resume") or {}).get("run"),
                settings=settings,
                **place,
            )
        )
    return out


def checkpoint(
    conn: sqlite3.Connection, run_id: int, kind: str, with_blobs: bool = True
) -> dict[str, Any] | None:
    columns = "id, kind, epoch, step" + (", weights, optimizer" if with_blobs else "")
    row = conn.execute(
        f"SELECT {columns} FROM checkpoints WHERE run_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
        [run_id, kind],
    ).fetchone()
    if row is None:
        return None
    names = ["id", "kind", "epoch", "step", "weights", "optimizer"]
    return dict(zip(names, row, strict=False))
