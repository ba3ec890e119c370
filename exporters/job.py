"""The export worker's protocol: one job file in, JSON-Lines events out. No TensorFlow here.

Events, one JSON object per line on the worker's stdout:

- ``{"type": "progress", "message": "..."}``: a stage began (converting, checking parity, ...)
- ``{"type": "result", "result": ExportResult.to_json(), "sample_source": "validation"}``
- ``{"type": "failed", "reason": one readable line, "detail": the traceback}``

``result`` and ``failed`` are terminal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from layerloom.nodes.errors import LayerloomError

EXPORT_JOB_FORMAT = 1
TERMINAL = frozenset({"result", "failed"})


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


def emit(stream: IO[str], type_: str, **fields: Any) -> None:
    stream.write(json.dumps({"type": type_, **fields}, allow_nan=False, default=str) + "\n")
    stream.flush()


def parse_event(line: str) -> dict[str, Any] | None:
    """An event, or None for a line that is not one (it is logged, never fatal)."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "type" in event else None
