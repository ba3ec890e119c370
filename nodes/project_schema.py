"""The `.loom` file format: its identity, its schema versions and the migrations between them.

This module owns what is *inside* a project file: the application id that marks a SQLite database
as a Layerloom project, the format version kept in ``PRAGMA user_version``, and the forward-only
migrations that build and upgrade the tables. ``nodes.project`` owns opening, validating and
writing the file.

A new project is built by running every migration from version 0, so a fresh file and an upgraded
old file go through the same code and cannot drift apart. To change the format: bump
``SCHEMA_VERSION``, add one function ``_vN_to_vN+1`` to ``MIGRATIONS``, and add a golden dump
``tests/nodes/golden/project_vN+1.sql`` (keep the old goldens: they prove old files still open).
Migrations are frozen history: never edit one that has shipped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

# sqlite-utils costs ~0.2 s to import; opening and reading a project (the editor's start-up path)
# never needs it, so it is imported where tables are written.
if TYPE_CHECKING:
    import sqlite_utils

# "LOOM" in ASCII: `PRAGMA application_id` lets `file(1)` and our open() tell a project from any
# other SQLite database.
APPLICATION_ID: int = int.from_bytes(b"LOOM", "big")

# The format this code writes; it opens files with this version or older (migrating them forward).
SCHEMA_VERSION = 4

Migration = Callable[["sqlite_utils.Database"], None]


def _v0_to_v1(db: sqlite_utils.Database) -> None:
    """Version 1: graph versions, settings, and the tables runs, metrics, checkpoints and exports.

    JSON lives in TEXT columns and weights in BLOBs, so the file is plain SQL to any reader.
    """
    from sqlite_utils.db import ForeignKey

    db.create_table(
        "graph_versions",
        {"id": int, "created_at": str, "sha256": str, "message": str, "graph": str},
        pk="id",
        not_null={"created_at", "sha256", "message", "graph"},
        defaults={"message": ""},
    )
    db.create_table("settings", {"key": str, "value": str}, pk="key", not_null={"value"})
    db.create_table(
        "runs",
        {
            "id": int,
            "graph_version_id": int,
            "status": str,
            "settings": str,
            "dataset_fingerprint": str,
            "created_at": str,
            "started_at": str,
            "finished_at": str,
            "error": str,
        },
        pk="id",
        # A run points at the exact graph it trained, so that graph version cannot be deleted.
        foreign_keys=[("graph_version_id", "graph_versions", "id")],
        not_null={"graph_version_id", "status", "settings", "created_at"},
        defaults={"settings": "{}"},
    )
    db.create_table(
        "metrics",
        {
            "run_id": int,
            "seq": int,
            "epoch": int,
            "step": int,
            "split": str,
            "name": str,
            "value": float,
        },
        # One event (sequence number) carries several metrics; the key lets a re-attached remote
        # run replay events from its last sequence number without duplicating rows.
        pk=("run_id", "seq", "name"),
        foreign_keys=[ForeignKey("metrics", "run_id", "runs", "id", on_delete="CASCADE")],
        not_null={"run_id", "seq", "name"},
    )
    db["metrics"].create_index(["run_id", "name"])  # plots read one metric of one run
    db.create_table(
        "checkpoints",
        {
            "id": int,
            "run_id": int,
            "kind": str,  # 'best' or 'last'
            "epoch": int,
            "step": int,
            "weights": bytes,
            "optimizer": bytes,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[ForeignKey("checkpoints", "run_id", "runs", "id", on_delete="CASCADE")],
        not_null={"run_id", "kind", "created_at"},
    )
    db["checkpoints"].create_index(["run_id"])
    db.create_table(
        "exports",
        {
            "id": int,
            "run_id": int,
            "target": str,
            "options": str,
            "path": str,
            "parity": str,
            "status": str,
            "created_at": str,
        },
        pk="id",
        # An export outlives a deleted run: it is a record of a file that exists on disk.
        foreign_keys=[ForeignKey("exports", "run_id", "runs", "id", on_delete="SET NULL")],
        not_null={"target", "options", "status", "created_at"},
        defaults={"options": "{}"},
    )
    db["exports"].create_index(["run_id"])


# Columns version 2 adds to ``runs``: where and how a run ran, and who records it.
RUN_PLACE_COLUMNS: dict[str, type] = {
    "backend": str,  # the backend's registry name ("local", or a remote's)
    "host": str,  # the machine the job runs on
    "job_id": str,  # the backend's id of the job, to ask whether it still runs or attach to it
    "accelerator": str,  # "cpu", "gpu", "tpu" as the worker reported its devices
    "keras_backend": str,  # "tensorflow" or "jax"
    "device_count": int,
    "exit_reason": str,  # why it ended, in words ("finished", "stopped by the user", ...)
    "recorder_host": str,  # the process writing its events into this file: host and pid
    "recorder_pid": int,
    # The last event whose effects are committed: a reader that attaches later resumes after it.
    "last_seq": int,
}
# A version 1 run's status, as version 2's exit_reason.
_V1_EXIT_REASONS = {
    "finished": "finished",
    "cancelled": "stopped by the user",
    "interrupted": "the recording process ended while training",
}


def _v1_to_v2(db: sqlite_utils.Database) -> None:
    """Version 2: where a run ran (backend, host, job id, accelerator, Keras backend, device
    count), why it ended, and which process records it become columns of ``runs``. Version 1 kept
    the recording process in the settings JSON (``orchestrator``); it moves to its columns, and
    every version 1 run ran on the local backend of the machine that recorded it."""
    for column, kind in RUN_PLACE_COLUMNS.items():
        db["runs"].add_column(column, kind)
    conn = db.conn
    rows = conn.execute("SELECT id, status, settings, error FROM runs").fetchall()
    for run_id, status, settings_text, error in rows:
        try:
            settings = json.loads(settings_text or "{}")
        except ValueError:
            settings = {}
        recorder = settings.pop("orchestrator", None) if isinstance(settings, dict) else None
        recorder = recorder if isinstance(recorder, dict) else {}
        host = recorder.get("host")
        pid = recorder.get("pid") if isinstance(recorder.get("pid"), int) else None
        reason = error if status == "failed" else _V1_EXIT_REASONS.get(status)
        conn.execute(
            "UPDATE runs SET settings = ?, backend = 'local', host = ?, recorder_host = ?,"
            " recorder_pid = ?, exit_reason = ? WHERE id = ?",
            [json.dumps(settings, sort_keys=True), host, host, pid, reason, run_id],
        )


# The per-node figures of a health sample (``nodes.health.FIGURES``), as version 3 stores them.
HEALTH_FIGURE_COLUMNS = (
    "grad_norm",
    "weight_norm",
    "update_ratio",
    "activation_mean",
    "activation_std",
    "dead_fraction",
    "saturated_fraction",
)


def _v2_to_v3(db: sqlite_utils.Database) -> None:
    """Version 3: ``health``, a run's training health per node. One row per node of each health
    sample (``seq`` of its event, ``step`` the optimizer's global step, a null figure where it does
    not apply), in graph order by rowid. A diverged run adds the row of the first non-finite value
    its replay found: ``nonfinite`` is 'output' or 'gradient' and ``rows`` the JSON list of the
    batch rows involved; the figures of that row are null."""
    from sqlite_utils.db import ForeignKey

    db.create_table(
        "health",
        {
            "run_id": int,
            "seq": int,
            "epoch": int,
            "step": int,
            "node": str,
            **dict.fromkeys(HEALTH_FIGURE_COLUMNS, float),
            "nonfinite": str,
            "rows": str,
        },
        # The key lets a re-attached reader replay events without duplicating rows.
        pk=("run_id", "seq", "node"),
        foreign_keys=[ForeignKey("health", "run_id", "runs", "id", on_delete="CASCADE")],
        not_null={"run_id", "seq", "node"},
    )


def _v3_to_v4(db: sqlite_utils.Database) -> None:
    """Version 4: ``pipeline_runs`` and ``pipeline_steps``, what ``layerloom pipeline`` did. A
    pipeline run records its inputs (the data file and its fingerprint, the graph version and
    the model's hash, the settings as JSON), its verdict (``running``, ``pushed``, ``refused``,
    ``failed``), the step that decided it and why, and what it pushed; each of its steps is a row
    of ``pipeline_steps`` with its status, inputs and figures (JSON)."""
    from sqlite_utils.db import ForeignKey

    db.create_table(
        "pipeline_runs",
        {
            "id": int,
            "created_at": str,
            "finished_at": str,
            "verdict": str,
            "decided_at": str,
            "reason": str,
            "data_path": str,
            "data_fingerprint": str,
            "graph_version_id": int,
            "graph_sha256": str,
            "settings": str,
            "run_id": int,
            "model_name": str,
            "version": int,
            "push_path": str,
        },
        pk="id",
        foreign_keys=[
            ForeignKey("pipeline_runs", "graph_version_id", "graph_versions", "id"),
            # The record of a push outlives a deleted run, as an export's does.
            ForeignKey("pipeline_runs", "run_id", "runs", "id", on_delete="SET NULL"),
        ],
        not_null={"created_at", "verdict", "data_path", "settings"},
        defaults={"settings": "{}"},
    )
    db.create_table(
        "pipeline_steps",
        {
            "pipeline_id": int,
            "position": int,
            "step": str,
            "status": str,
            "started_at": str,
            "finished_at": str,
            "inputs": str,
            "figures": str,
            "message": str,
        },
        pk=("pipeline_id", "position"),
        foreign_keys=[
            ForeignKey("pipeline_steps", "pipeline_id", "pipeline_runs", "id", on_delete="CASCADE")
        ],
        not_null={"pipeline_id", "position", "step", "status"},
    )


# Key n holds the function that upgrades format n to n + 1.
MIGRATIONS: dict[int, Migration] = {0: _v0_to_v1, 1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}


def read_user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> tuple[int, int]:
    """Bring the database up to ``SCHEMA_VERSION`` in ONE transaction; return (from, to).

    The connection must be in autocommit mode (no transaction open). A failing step rolls the
    whole upgrade back, so a file is either fully at its old version or fully at the new one.
    A step that rebuilds a table should use sqlite-utils' ``Table.transform``, which works inside
    this transaction (``PRAGMA foreign_keys`` cannot be switched off inside one).
    """
    conn = db.conn
    target = SCHEMA_VERSION  # read at call time, so a test can monkeypatch a future version
    current = read_user_version(conn)
    if current >= target:  # the common case: no write lock taken just to open a file
        return current, current
    # IMMEDIATE takes the write lock, then the version is read again: two processes opening the
    # same old file cannot both run the migrations.
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = read_user_version(conn)
        for version in range(current, target):
            MIGRATIONS[version](db)
        if current < target:
            # PRAGMA does not take bound parameters; both values are ints we control.
            conn.execute(f"PRAGMA user_version = {int(target)}")
    except BaseException:
        if conn.in_transaction:  # some errors end the transaction themselves
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return current, max(current, target)


def initialise(db: sqlite_utils.Database) -> None:
    """Make an empty database a current-format project: stamp the id, then migrate from 0."""
    db.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrate(db)
