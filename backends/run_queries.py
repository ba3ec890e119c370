"""Read-only queries on a project's run records (``metrics``, ``checkpoints``) for the faces.

``records`` writes runs and reads them back as summaries; these are the other reads the GUI and
the CLI need. They live here, next to the schema's other SQL, so no face runs SQL itself: the
faces call them through ``app.workbench.runs``. Plain ``sqlite3``, nothing heavy imported, because
the window asks ``trained_run_count`` at start-up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

# Metric names in the metrics table that are not curves (the epoch's learning rate, throughput).
NOT_CURVES = ("lr", "samples_per_second")


def trained_run_count(conn: sqlite3.Connection) -> int:
    """How many runs kept trained weights (a checkpoint with a non-empty weights blob)."""
    query = "SELECT COUNT(DISTINCT run_id) FROM checkpoints WHERE length(weights) > 0"
    return int(conn.execute(query).fetchone()[0])


def epoch_curves(
    conn: sqlite3.Connection, run_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """``{run_id: [{"epoch", "name", "value"}, ...]}``: each run's per-epoch train and validation
    metrics in recording order, without the rows that are not curves."""
    out: dict[int, list[dict[str, Any]]] = {}
    for run_id in run_ids:
        rows = conn.execute(
            "SELECT epoch, name, value FROM metrics WHERE run_id = ?"
            " AND split IN ('train', 'validation') ORDER BY seq",
            [run_id],
        ).fetchall()
        out[run_id] = [
            {"epoch": epoch, "name": name, "value": value}
            for epoch, name, value in rows
            if name not in NOT_CURVES and epoch is not None
        ]
    return out


def epoch_scalars(conn: sqlite3.Connection, run_id: int) -> list[dict[str, Any]]:
    """``[{"epoch", "split", "name", "value"}, ...]``: a run's per-epoch train and validation
    metrics and its learning rate, in recording order (TensorBoard's scalars)."""
    rows = conn.execute(
        "SELECT epoch, split, name, value FROM metrics WHERE run_id = ?"
        " AND split IN ('train', 'validation') AND epoch IS NOT NULL ORDER BY seq, name",
        [run_id],
    ).fetchall()
    return [
        {"epoch": epoch, "split": split, "name": name, "value": value}
        for epoch, split, name, value in rows
        if name != "samples_per_second"
    ]
