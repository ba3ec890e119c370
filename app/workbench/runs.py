"""Reads of a project's runs for the faces: which runs can be exported, each run's curves, and
the per-sample tables of an evaluation. The SQL stays in ``backends.run_queries`` and the
arithmetic in ``backends.evaluation``; the GUI and the CLI reach both only through here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.backends import records, run_queries
from layerloom.backends.evaluation import classification_rows, regression_rows

__all__ = [
    "NOT_CURVES",
    "RUN_FACTS",
    "classification_rows",
    "epoch_curves",
    "regression_rows",
    "trained_run_count",
]

NOT_CURVES = run_queries.NOT_CURVES
RUN_FACTS = records.RUN_FACTS  # keys of a run's settings JSON that are facts, not settings


def trained_run_count(opened: OpenProject | None) -> int:
    """How many runs of the project kept trained weights (0 without a project)."""
    return 0 if opened is None else run_queries.trained_run_count(opened.project.conn)


def epoch_curves(
    opened: OpenProject | None, run_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """Each run's per-epoch train and validation metrics, for overlaying runs."""
    return {} if opened is None else run_queries.epoch_curves(opened.project.conn, run_ids)
