"""Data checks for a project: statistics, the stored schema, and anomalies of new data.

The seam ``layerloom pipeline`` (and ``layerloom check-data``) calls: ``check_data(opened, path)``
streams a CSV/TSV file against the project's stored schema and training statistics and returns a
``DataCheck`` whose ``anomalies`` list is empty when the file is clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Anomaly:
    column: str | None  # None for file-level anomalies
    kind: str  # "missing_column", "extra_column", "type_change", "unseen_category", ...
    message: str  # one line naming the column and example rows
    rows: list[int]  # example file line numbers (the header is line 1), may be empty

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "message": self.message, "rows": self.rows}


@dataclass(frozen=True)
class DataCheck:
    path: str
    anomalies: list[Anomaly]
    statistics: dict  # the new data's statistics (``layerloom stats --json``'s form)
    notes: list[str] = field(default_factory=list)  # e.g. "schema inferred from ... and stored"

    @property
    def passed(self) -> bool:
        return not self.anomalies

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "passed": self.passed,
            "anomalies": [a.to_json() for a in self.anomalies],
            "notes": self.notes,
            "statistics": self.statistics,
        }


def check_data(opened: Any, path: str | Path) -> DataCheck:
    """Anomalies of the CSV/TSV file ``path`` against the project's stored schema and training
    statistics. With no schema stored yet, infers one from the project's dataset first and stores
    it (a note says so; a project opened read-only keeps it in memory only)."""
    raise NotImplementedError("check_data: being built (issue #18)")
