"""How pipeline runs live in a project file: ``pipeline_runs`` and ``pipeline_steps``, written and
read here only (plain ``sqlite3`` on the project's connection, as ``backends.records`` does).

A pipeline run is inserted when it starts (verdict ``running``), each step is a row added as it
ends, and the run's verdict is set at the end, each in its own short transaction: a killed
pipeline leaves a ``running`` row with the steps it finished, never a half-written step.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from layerloom.nodes.project_lock import write_transaction

RUNNING, PUSHED, REFUSED, FAILED = "running", "pushed", "refused", "failed"
# The verdicts a re-run with the same inputs repeats rather than redoes (a failure, e.g. a host
# that could not be reached, is worth retrying).
DECIDED = (PUSHED, REFUSED)
_FAILURE = "cannot record the pipeline in the project file"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class PipelineStep:
    step: str
    status: str  # passed | refused | failed | skipped
    message: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "status": self.status,
            "message": self.message,
            "inputs": self.inputs,
            "figures": self.figures,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


@dataclass
class PipelineRecord:
    id: int
    created_at: str
    finished_at: str | None
    verdict: str
    decided_at: str | None  # the step that decided the verdict
    reason: str | None
    data_path: str
    data_fingerprint: str | None
    graph_version_id: int | None
    graph_sha256: str | None
    settings: dict[str, Any]
    run_id: int | None
    model_name: str | None
    version: int | None
    push_path: str | None
    steps: list[PipelineStep] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "verdict": self.verdict,
            "decided_at": self.decided_at,
            "reason": self.reason,
            "data_path": self.data_path,
            "data_fingerprint": self.data_fingerprint,
            "graph_version_id": self.graph_version_id,
            "graph_sha256": self.graph_sha256,
            "settings": self.settings,
            "run_id": self.run_id,
            "model_name": self.model_name,
            "version": self.version,
            "push_path": self.push_path,
            "steps": [step.to_json() for step in self.steps],
        }


def insert_pipeline(
    conn: sqlite3.Connection,
    data_path: str,
    data_fingerprint: str | None,
    graph_version_id: int | None,
    graph_sha256: str | None,
    settings: dict[str, Any],
    model_name: str,
) -> int:
    """Record a pipeline run that starts now (verdict ``running``); its id."""
    with write_transaction(conn, _FAILURE):
        cursor = conn.execute(
            "INSERT INTO pipeline_runs (created_at, verdict, data_path, data_fingerprint,"
            " graph_version_id, graph_sha256, settings, model_name)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                _now(),
                RUNNING,
                data_path,
                data_fingerprint,
                graph_version_id,
                graph_sha256,
                json.dumps(settings, sort_keys=True, default=str),
                model_name,
            ],
        )
    return int(cursor.lastrowid or 0)


def add_step(conn: sqlite3.Connection, pipeline_id: int, step: PipelineStep) -> None:
    with write_transaction(conn, _FAILURE):
        (position,) = conn.execute(
            "SELECT COUNT(*) FROM pipeline_steps WHERE pipeline_id = ?", [pipeline_id]
        ).fetchone()
        conn.execute(
            "INSERT INTO pipeline_steps (pipeline_id, position, step, status, started_at,"
            " finished_at, inputs, figures, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                pipeline_id,
                int(position) + 1,
                step.step,
                step.status,
                step.started_at or _now(),
                step.finished_at or _now(),
                json.dumps(step.inputs, sort_keys=True, default=str),
                json.dumps(step.figures, sort_keys=True, default=str),
                step.message,
            ],
        )


def set_run(conn: sqlite3.Connection, pipeline_id: int, run_id: int) -> None:
    """The training run the pipeline started."""
    with write_transaction(conn, _FAILURE):
        conn.execute("UPDATE pipeline_runs SET run_id = ? WHERE id = ?", [run_id, pipeline_id])


def finish_pipeline(
    conn: sqlite3.Connection,
    pipeline_id: int,
    verdict: str,
    decided_at: str,
    reason: str,
    version: int | None = None,
    push_path: str | None = None,
) -> None:
    with write_transaction(conn, _FAILURE):
        conn.execute(
            "UPDATE pipeline_runs SET verdict = ?, decided_at = ?, reason = ?, version = ?,"
            " push_path = ?, finished_at = ? WHERE id = ?",
            [verdict, decided_at, reason, version, push_path, _now(), pipeline_id],
        )


def _steps(conn: sqlite3.Connection, pipeline_id: int) -> list[PipelineStep]:
    rows = conn.execute(
        "SELECT step, status, message, inputs, figures, started_at, finished_at"
        " FROM pipeline_steps WHERE pipeline_id = ? ORDER BY position",
        [pipeline_id],
    )
    return [
        PipelineStep(
            step,
            status,
            message or "",
            json.loads(inputs or "{}"),
            json.loads(figures or "{}"),
            started or "",
            finished or "",
        )
        for step, status, message, inputs, figures, started, finished in rows
    ]


_COLUMNS = (
    "id, created_at, finished_at, verdict, decided_at, reason, data_path, data_fingerprint,"
    " graph_version_id, graph_sha256, settings, run_id, model_name, version, push_path"
)


def _record(conn: sqlite3.Connection, row: tuple) -> PipelineRecord:
    values = list(row)
    values[10] = json.loads(values[10] or "{}")
    record = PipelineRecord(*values)
    record.steps = _steps(conn, record.id)
    return record


def pipelines(conn: sqlite3.Connection, pipeline_id: int | None = None) -> list[PipelineRecord]:
    """Every pipeline run with its steps, oldest first (or the one ``pipeline_id`` names)."""
    where, args = ("WHERE id = ?", [pipeline_id]) if pipeline_id is not None else ("", [])
    rows = conn.execute(f"SELECT {_COLUMNS} FROM pipeline_runs {where} ORDER BY id", args)
    return [_record(conn, row) for row in rows.fetchall()]


def last_decided(conn: sqlite3.Connection) -> PipelineRecord | None:
    """The newest pipeline run that was pushed or refused."""
    marks = ", ".join("?" for _ in DECIDED)
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM pipeline_runs WHERE verdict IN ({marks}) ORDER BY id DESC LIMIT 1",
        list(DECIDED),
    ).fetchone()
    return _record(conn, row) if row is not None else None


def last_pushed(conn: sqlite3.Connection) -> PipelineRecord | None:
    """The newest pipeline run that pushed a version."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM pipeline_runs WHERE verdict = ? ORDER BY id DESC LIMIT 1",
        [PUSHED],
    ).fetchone()
    return _record(conn, row) if row is not None else None
