"""The export worker's protocol: one job file in, JSON-Lines events out. No TensorFlow here.

Events follow the one event protocol of every worker (``layerloom.nodes.events``: ``seq``,
``type``, ``time``), one per line on the worker's stdout; the export worker's types are:

- ``progress``: message (a stage began: converting, checking parity, ...)
- ``log``: level, message
- ``result``: result (``ExportResult.to_json()``), sample_source (e.g. "validation")
- ``failed``: reason (one readable line), detail (the traceback, optional)

``result`` and ``failed`` are terminal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.events import EventTypes, EventWriter

EXPORT_JOB_FORMAT = 1
TERMINAL = frozenset({"result", "failed"})
EXPORT_EVENTS = EventTypes(
    {
        "progress": ("message",),
        "log": ("level", "message"),
        "result": ("result",),
        "failed": ("reason",),
    },
    TERMINAL,
)


@dataclass
class ExportJob:
    target: str
    options: dict[str, Any]  # as given; the worker resolves them against the exporter
    plan: dict[str, Any]  # BuildPlan.to_json()
    weights: str  # a .weights.h5 file
    out_dir: str  # exists and is empty
    dataset: dict[str, Any] | None = None  # a dataset spec; None: synthetic parity data
    base_dir: str | None = None
    model_name: str = "model"
    contract: dict[str, Any] | None = None  # InputContract.to_json() of the run's data
    example_row: dict[str, str] | None = None  # tables: one real row, for the README
    sample_size: int = 32
    calibration: int = 100  # training examples for int8 calibration
    seed: int = 0
    format: int = field(default=EXPORT_JOB_FORMAT)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> ExportJob:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise LayerloomError(f"cannot read the export job {path}: {error}") from error
        if data.get("format", EXPORT_JOB_FORMAT) > EXPORT_JOB_FORMAT:
            raise LayerloomError("the export job was written by a newer Layerloom")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def export_writer(stream: IO[str]) -> EventWriter:
    """A writer of export events to ``stream`` (the worker's stdout)."""
    return EventWriter(EXPORT_EVENTS, stream)
