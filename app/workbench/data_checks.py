"""Data checks for a project: statistics, the stored schema, and anomalies of new data.

The seam ``layerloom pipeline`` (and ``layerloom check-data``) calls: ``check_data(opened, path)``
streams a CSV/TSV file against the project's stored schema and training statistics and returns a
``DataCheck`` whose ``anomalies`` list is empty when the file is clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerloom.nodes.datasets import dataset_spec_for
from layerloom.nodes.datasets.data_schema import (
    SCHEMA_SETTING,
    STATISTICS_SETTING,
    Anomaly,
    edit_schema,
    find_anomalies,
    infer_schema,
    watches,
)
from layerloom.nodes.datasets.image_statistics import image_statistics
from layerloom.nodes.datasets.statistics import csv_statistics
from layerloom.nodes.errors import DatasetError

__all__ = [
    "Anomaly",
    "DataCheck",
    "DataPlan",
    "check_data",
    "data_plan",
    "plan_check",
    "plan_statistics",
    "store_schema",
    "dataset_statistics",
    "edit_project_schema",
    "export_tfmd",
    "infer_project_schema",
    "stored_schema",
]


@dataclass(frozen=True)
class DataCheck:
    path: str
    anomalies: list[Anomaly]
    statistics: dict  # the new data's statistics (``layerloom stats --json``'s form)
    notes: list[str] = field(default_factory=list)  # e.g. "schema inferred from ... and stored"
    inferred: tuple[dict, dict] | None = None  # (schema, training statistics) inferred for it

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


def _csv_options(opened: Any) -> dict[str, Any]:
    """The project's CSV reading options (target, delimiter, categorical), if its data is CSV."""
    try:
        spec = dataset_spec_for(opened)
    except DatasetError:
        return {}
    if spec.get("kind") != "csv":
        return {}
    return {
        "target": spec.get("target"),
        "delimiter": spec.get("delimiter"),
        "categorical": spec.get("categorical"),
    }


def _training_path(opened: Any) -> Path:
    spec = dataset_spec_for(opened)
    if spec.get("kind") != "csv":
        raise DatasetError(
            f"{opened.path.name}'s dataset is {spec.get('kind')}: schemas and data checks read"
            " CSV/TSV data (`layerloom stats` also reads image folders)"
        )
    return Path(spec["path"])


def dataset_statistics(opened: Any, data: str | Path | None = None) -> dict[str, Any]:
    """Statistics of ``data`` (a CSV/TSV file or an image folder; default: the project's dataset,
    all rows), read with the project's CSV options."""
    if data is None:
        spec = dataset_spec_for(opened)
        if spec.get("kind") == "images":
            return image_statistics(spec["path"])
        data = _training_path(opened)
    data = Path(data)
    if data.is_dir():
        return image_statistics(data)
    if not data.is_file():
        raise DatasetError(f"no such file: {data}")
    return csv_statistics(data, **_csv_options(opened)).statistics


def stored_schema(opened: Any) -> dict[str, Any] | None:
    return opened.project.get_setting(SCHEMA_SETTING)


def infer_project_schema(opened: Any, *, store: bool = True) -> tuple[dict, dict]:
    """Schema and statistics of the project's training data; stored in the project when ``store``
    (replacing any edited schema)."""
    statistics = csv_statistics(_training_path(opened), **_csv_options(opened)).statistics
    schema = infer_schema(statistics)
    if store:
        store_schema(opened, schema, statistics)
    return schema, statistics


def edit_project_schema(opened: Any, assignments: list[str]) -> dict[str, Any]:
    """Apply ``COL.KEY=VALUE`` edits to the stored schema (inferring it first if none is stored);
    everything is checked before anything is written."""
    schema = stored_schema(opened)
    statistics = opened.project.get_setting(STATISTICS_SETTING)
    if schema is None:
        schema, statistics = infer_project_schema(opened, store=False)
    edited = edit_schema(schema, assignments)
    opened.project.set_setting(SCHEMA_SETTING, edited)
    if statistics is not None:
        opened.project.set_setting(STATISTICS_SETTING, statistics)
    return edited


@dataclass(frozen=True)
class DataPlan:
    """What the statistics and checks need from a project, read on the thread that owns it, so
    the long reading can run on another (``plan_statistics``, ``plan_check``: no SQLite there)."""

    name: str  # the project file's name
    data: str  # the dataset's path (a CSV/TSV file or an image folder)
    kind: str  # "csv" or "images"
    options: dict[str, Any]  # CSV reading options
    schema: dict[str, Any] | None
    training: dict[str, Any] | None  # the statistics the schema was inferred from


def data_plan(opened: Any) -> DataPlan:
    spec = dataset_spec_for(opened)
    kind = spec.get("kind")
    if kind not in ("csv", "images"):
        raise DatasetError(
            f"{opened.path.name}'s dataset is {kind}: statistics read CSV/TSV files and image"
            " folders"
        )
    return DataPlan(
        opened.path.name,
        spec["path"],
        kind,
        _csv_options(opened),
        stored_schema(opened),
        opened.project.get_setting(STATISTICS_SETTING),
    )


def plan_statistics(plan: DataPlan, data: str | Path | None = None) -> dict[str, Any]:
    path = Path(data or plan.data)
    if path.is_dir():
        return image_statistics(path)
    if not path.is_file():
        raise DatasetError(f"no such file: {path}")
    return csv_statistics(path, **plan.options).statistics


def plan_check(plan: DataPlan, path: str | Path) -> DataCheck:
    """``check_data`` on a plan; with no schema in it, one inferred now (noted, not stored:
    ``store_schema`` on the project's thread keeps it, from ``DataCheck.inferred``)."""
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path} is a folder: check-data reads a CSV/TSV file")
    if not path.is_file():
        raise DatasetError(f"no such file: {path}")
    schema, training, notes, inferred = plan.schema, plan.training, [], None
    if schema is None:
        if plan.kind != "csv":
            raise DatasetError(
                f"{plan.name}'s dataset is an image folder: data checks read CSV/TSV data"
            )
        training = csv_statistics(plan.data, **plan.options).statistics
        schema = infer_schema(training)
        inferred = (schema, training)
        notes.append(f"no schema was stored: inferred from {schema['inferred_from']}")
    options = dict(plan.options, categorical=None)  # the schema's types decide
    result = csv_statistics(path, **options, watch=watches(schema, training))
    anomalies = find_anomalies(schema, training, result)
    return DataCheck(str(path), anomalies, result.statistics, notes, inferred)


def store_schema(opened: Any, schema: dict[str, Any], statistics: dict[str, Any]) -> None:
    opened.project.set_setting(SCHEMA_SETTING, schema)
    opened.project.set_setting(STATISTICS_SETTING, statistics)


def check_data(opened: Any, path: str | Path) -> DataCheck:
    """Anomalies of the CSV/TSV file ``path`` against the project's stored schema and training
    statistics. With no schema stored yet, infers one from the project's dataset first and stores
    it (a note says so; a project opened read-only keeps it in memory only)."""
    plan = data_plan(opened)
    result = plan_check(plan, path)
    if result.inferred is not None:
        if opened.project.readonly:
            result.notes[-1] += " (not stored: the project is read-only)"
        else:
            store_schema(opened, *result.inferred)
            result.notes[-1] += f" and stored in {opened.path.name}"
    return result


def export_tfmd(
    opened: Any, folder: str | Path, statistics: dict[str, Any]
) -> tuple[list[Path], str | None]:
    """``stats.pbtxt`` of ``statistics`` and ``schema.pbtxt`` in ``folder``, as TensorFlow Metadata
    text protos, and a note when the schema is not the stored one. The schema is the project's
    stored one, else inferred from these CSV statistics (not stored); image folders get none."""
    from layerloom.nodes.datasets.tfmd import write_tfmd

    if statistics["kind"] != "csv":
        return write_tfmd(folder, statistics, None), None  # a CSV schema says nothing of images
    schema, note = stored_schema(opened), None
    if schema is None:
        schema = infer_schema(statistics)
        note = "schema.pbtxt is inferred from these statistics (the project stores no schema)"
    return write_tfmd(folder, statistics, schema), note
