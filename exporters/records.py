"""How exports live in a project file: the ``exports`` table, written and read here only.

Plain ``sqlite3`` on the project's connection, as ``backends.records`` does for runs. A row keeps
the target, its options, the folder, the outcome and the whole parity report (JSON).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from layerloom.nodes.project import write_transaction


@dataclass
class ExportRecord:
    id: int
    run_id: int | None
    target: str
    status: str
    path: str
    created_at: str
    options: dict[str, Any]
    parity: dict[str, Any]


def insert_export(
    conn: sqlite3.Connection,
    run_id: int | None,
    target: str,
    options: dict[str, Any],
    path: str,
    report: dict[str, Any],
    status: str,
) -> int:
    """Record one export in its own transaction; its id."""
    with write_transaction(conn, "cannot record the export in the project file"):
        cursor = conn.execute(
            "INSERT INTO exports (run_id, target, options, path, parity, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                target,
                json.dumps(options, sort_keys=True),
                path,
                json.dumps(report, default=str),
                status,
                datetime.now(UTC).isoformat(timespec="milliseconds"),
            ],
        )
    return int(cursor.lastrowid or 0)


def list_exports(conn: sqlite3.Connection) -> list[ExportRecord]:
    """Every recorded export, oldest first."""
    rows = conn.execute(
        "SELECT id, run_id, target, status, path, created_at, options, parity FROM exports "
        "ORDER BY id"
    )
    return [
        ExportRecord(*row[:6], json.loads(row[6] or "{}"), json.loads(row[7] or "{}"))
        for row in rows
    ]
