"""The ``health`` table of a project file: a run's training health per node, written and read.

``records.Recorder`` writes each ``health`` event (one row per node, graph order kept by rowid)
and a diverged run's first non-finite value (one row with ``nonfinite`` set); the faces read the
series back through ``app.workbench.health``. Plain ``sqlite3``; writes run inside the caller's
transaction.
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Any

from layerloom.nodes.health import FIGURES

_COLUMNS = ("run_id", "seq", "epoch", "step", "node", *FIGURES, "nonfinite", "rows")
_INSERT = (
    f"INSERT OR IGNORE INTO health ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def write_sample(conn: sqlite3.Connection, run_id: int, event: dict[str, Any]) -> None:
    """One ``health`` event's rows (OR IGNORE: a replayed event is already there)."""
    rows = [
        (
            run_id,
            event["seq"],
            event.get("epoch"),
            event.get("global_step"),
            str(node),
            *(_number((figures or {}).get(name)) for name in FIGURES),
            None,
            None,
        )
        for node, figures in (event.get("nodes") or {}).items()
    ]
    conn.executemany(_INSERT, rows)


def write_nonfinite(conn: sqlite3.Connection, run_id: int, event: dict[str, Any]) -> None:
    """A diverged run's first non-finite value (the ``finished`` event's ``nonfinite``)."""
    found = event["nonfinite"]
    figures = (None,) * len(FIGURES)
    where = found.get("where") if found.get("where") in ("output", "loss") else "gradient"
    rows = json.dumps([int(r) for r in found.get("rows") or []])
    conn.execute(
        _INSERT,
        [run_id, event["seq"], None, found.get("step"), str(found["node"]), *figures, where, rows],
    )


def series(conn: sqlite3.Connection, run_id: int) -> dict[str, list[dict[str, Any]]]:
    """``{node: [{"step", "epoch", figure...}, ...]}``, nodes in graph order, samples by step."""
    out: dict[str, list[dict[str, Any]]] = {}
    rows = conn.execute(
        f"SELECT node, step, epoch, {', '.join(FIGURES)} FROM health"
        " WHERE run_id = ? AND nonfinite IS NULL ORDER BY seq, rowid",
        [run_id],
    ).fetchall()
    for node, step, epoch, *values in rows:
        out.setdefault(node, []).append(
            {"step": step, "epoch": epoch, **dict(zip(FIGURES, values, strict=True))}
        )
    return out


def nonfinite(conn: sqlite3.Connection, run_id: int) -> dict[str, Any] | None:
    """``{"node", "where", "step", "rows"}`` of a diverged run's replay, or None."""
    row = conn.execute(
        "SELECT node, nonfinite, step, rows FROM health WHERE run_id = ? AND nonfinite IS NOT NULL"
        " ORDER BY seq LIMIT 1",
        [run_id],
    ).fetchone()
    if row is None:
        return None
    node, where, step, rows = row
    return {"node": node, "where": where, "step": step, "rows": json.loads(rows or "[]")}


def runs_with_health(conn: sqlite3.Connection) -> list[int]:
    """The runs that have health rows, oldest first."""
    return [r for (r,) in conn.execute("SELECT DISTINCT run_id FROM health ORDER BY run_id")]
