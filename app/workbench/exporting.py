"""Export use cases shared by the GUI and the CLI: check, start, watch, record and list exports.

``prepare_export`` checks everything it can before a converter starts, in this process and without
TensorFlow: the target exists and can run here, the options are valid, the run has trained weights,
no node of the run's graph is refused by the target, and the output folder is writable. A refusal
there is one ``ExportError`` line and nothing is recorded. ``start_export`` then runs the export
worker (a child process); the returned ``ExportSession`` records the outcome in the project's
``exports`` table when the worker ends: ``passed`` or ``failed`` (the parity check missed its
tolerance; the files exist), or ``error`` (the conversion itself failed or crashed).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.export_folder import (
    check_output_folder,
    moved,
    publish,
    staging_folder,
    write_manifest,
    writes_in_place,
)
from layerloom.app.workbench.export_process import (
    Event,
    ExportProcess,
    new_job_folder,
    take_warm,
)
from layerloom.app.workbench.run_choice import choose_run, run_contract
from layerloom.backends import records
from layerloom.exporters.base import Exporter, ExportError
from layerloom.exporters.job import ExportJob
from layerloom.exporters.records import ExportRecord, insert_export, list_exports
from layerloom.exporters.registry import default_exporters
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets.contract import InputContract
from layerloom.nodes.errors import DatasetError, LayerloomError
from layerloom.nodes.export_support import refusals
from layerloom.nodes.serialize import graph_from_dict

__all__ = [
    "ExportError",
    "ExportOutcome",
    "ExportRecord",
    "ExportSession",
    "PreparedExport",
    "export",
    "exports",
    "prepare_export",
    "start_export",
]

CHECKPOINT_KINDS = ("best", "last")


def _conn(opened: OpenProject) -> Any:
    return opened.project.conn


def model_name(opened: OpenProject) -> str:
    name = "".join(c if c.isalnum() else "_" for c in opened.path.stem).strip("_")
    return name if name and not name[0].isdigit() else f"model_{name}"


@dataclass
class PreparedExport:
    """A checked export request: what will be exported, from which weights, to where."""

    opened: OpenProject
    exporter: Exporter
    options: dict[str, Any]
    run_id: int
    checkpoint: dict[str, Any]  # id, kind, epoch, step, weights (bytes)
    plan: Any  # BuildPlan of the run's graph version
    out_dir: Path
    reason: str = ""  # which run and why, one line (run_choice)

    @property
    def target(self) -> str:
        return self.exporter.target


@dataclass
class ExportOutcome:
    id: int | None  # the exports row; None when it could not be recorded
    target: str
    run_id: int
    status: str  # passed | failed | error | cancelled
    out_dir: str
    files: list[str] = field(default_factory=list)
    parity: dict[str, Any] = field(default_factory=dict)
    runtime: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    sample_source: str = ""
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "run": self.run_id,
            "status": self.status,
            "out_dir": self.out_dir,
            "files": self.files,
            "parity": self.parity,
            "runtime": self.runtime,
            "details": self.details,
            "options": self.options,
            "sample_source": self.sample_source,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


def _choose_checkpoint(
    opened: OpenProject, run_id: int | None, kind: str
) -> tuple[int, dict[str, Any], int, str]:
    """(run id, checkpoint with weights, graph version id, why that run) of the run to export:
    the one ``run_id`` names, else the best finished run of the current graph (run_choice)."""
    try:
        chosen = choose_run(opened, run_id, kind, purpose="export")
    except LayerloomError as error:
        raise ExportError(str(error)) from error
    return chosen.run_id, chosen.checkpoint, chosen.summary.graph_version_id, chosen.reason


def checkpoint_epochs(opened: OpenProject, run_id: int) -> dict[str, int]:
    """The run's checkpoints an export can start from: kind ('best', 'last') -> epoch."""
    kept = {}
    for kind in CHECKPOINT_KINDS:
        stored = records.checkpoint(_conn(opened), run_id, kind, with_blobs=False)
        if stored is not None:
            kept[kind] = stored["epoch"]
    return kept


def prepare_export(
    opened: OpenProject,
    target: str,
    out_dir: str | Path,
    *,
    run_id: int | None = None,
    options: dict[str, Any] | None = None,
    checkpoint: str = "best",
    overwrite: bool = False,
) -> PreparedExport:
    """Check an export request without starting anything; ExportError names what is wrong."""
    exporter = default_exporters()[target]
    why_not = exporter.unavailable()
    if why_not:
        raise ExportError(why_not)
    resolved = exporter.resolve_options(options)
    chosen_run, stored, version_id, reason = _choose_checkpoint(opened, run_id, checkpoint)
    graph = graph_from_dict(opened.project.graph(version_id), opened.registry)
    refused = refusals(graph, opened.registry, exporter.limit_keys(resolved))
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise ExportError(refused[0].message + more)
    calibrated = exporter.needs_calibration(resolved)
    if calibrated and _dataset(opened)[0] is None:
        # Calibrating on synthetic noise gives a model that is confidently wrong on real inputs.
        raise ExportError(
            f"{calibrated} and this project has none ({_dataset(opened)[1]}); "
            "set a dataset with `layerloom data`"
        )
    plan = build_plan(graph, opened.registry, model_name(opened))
    folder = check_output_folder(Path(out_dir), exporter, overwrite)
    return PreparedExport(opened, exporter, resolved, chosen_run, stored, plan, folder, reason)


def _dataset(opened: OpenProject) -> tuple[dict[str, Any] | None, str]:
    """The project's dataset spec for parity/calibration batches, or None (synthetic) and why."""
    from layerloom.nodes.datasets import dataset_spec_for, open_source

    try:
        spec = dataset_spec_for(opened)
        open_source(spec, opened.path.resolve().parent).count()
    except DatasetError as error:
        return None, str(error)
    return spec, ""


def input_contract(
    plan: Any, dataset: dict[str, Any] | None, base_dir: Path
) -> tuple[InputContract | None, dict[str, str] | None]:
    """What the run's model takes raw, from the project's dataset and the run's plan (no
    TensorFlow), and for a table one real row of it: the first example of the validation split
    (else test, else train), the one the parity batch and the serving request start with.
    (None, None) without a dataset that fits the plan: the export states the plan's arrays."""
    if dataset is None:
        return None, None
    from layerloom.nodes.datasets import open_source
    from layerloom.nodes.datasets.tabular import CsvSource

    try:
        source = open_source(dataset, base_dir)
        contract = source.input_contract(plan, source.check(plan))
        if contract.kind != "table" or not isinstance(source, CsvSource):
            return contract, None
        splits = source.split_indices()
        first = next(int(splits[n][0]) for n in ("validation", "test", "train") if len(splits[n]))
        row = {name: source.column(name)[first] for name in contract.feature_columns()}
    except (DatasetError, StopIteration):
        return None, None
    return contract, row


def recorded_contract(opened: OpenProject, run_id: int) -> InputContract | None:
    """The input contract ``run_id`` recorded when it started (None for older runs)."""
    found = records.summaries(_conn(opened), run_id)
    return run_contract(found[0]) if found else None


class ExportSession:
    """A started export: its worker and, once it ends, the recorded outcome."""

    def __init__(self, prepared: PreparedExport, python: str | None = None) -> None:
        self.prepared = prepared
        self.started = time.monotonic()
        self.outcome: ExportOutcome | None = None
        self.stage = "starting the converter"
        self._cancelled = False
        opened = prepared.opened
        # Owned by this process: a later export removes it should this process be killed. The GUI's
        # warm export worker (if it holds one) already has such a folder, and Keras imported.
        self.warm = take_warm(python)
        self.job_dir = self.warm.folder if self.warm else new_job_folder(prepared.target)
        weights = self.job_dir / "trained.weights.h5"
        weights.write_bytes(prepared.checkpoint["weights"])
        dataset, self.dataset_note = _dataset(opened)
        base_dir = opened.path.resolve().parent
        contract, example_row = input_contract(prepared.plan, dataset, base_dir)
        recorded = recorded_contract(opened, prepared.run_id)
        if recorded is not None:  # what the run trained with wins over the data as it is now
            usable = example_row is not None and set(recorded.feature_columns()) <= set(example_row)
            contract, example_row = recorded, example_row if usable else None
        # Written into a hidden sibling and renamed into place at the end (export_folder.py).
        self.staging: Path | None = None
        written = prepared.out_dir
        if not writes_in_place(prepared.out_dir, prepared.exporter):
            self.staging = written = staging_folder(prepared.out_dir)
        job = ExportJob(
            target=prepared.target,
            options=prepared.options,
            plan=prepared.plan.to_json(),
            weights=str(weights),
            out_dir=str(written),
            dataset=dataset,
            base_dir=str(base_dir),
            model_name=prepared.plan.name,
            contract=contract.to_json() if contract is not None else None,
            example_row=example_row,
        )
        self.process = ExportProcess(job, self.job_dir, python, self.warm)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def _handle(self, event: Event) -> Event:
        kind = event["type"]
        if kind == "progress":
            self.stage = str(event.get("message", ""))
        elif kind == "result":
            self._finish(result=event["result"], sample_source=event.get("sample_source", ""))
        elif kind == "failed":
            self._finish(error=str(event.get("reason", "the export failed")))
        return event

    def poll(self) -> list[Event]:
        """Handle whatever arrived (never blocks): for a GUI timer."""
        return [self._handle(event) for event in self.process.poll()]

    def events(self) -> Iterator[Event]:
        for event in self.process.events():
            yield self._handle(event)

    def cancel(self) -> None:
        self._cancelled = True
        self.process.cancel()

    def wait(self) -> ExportOutcome:
        for _ in self.events():
            pass
        self.process.wait()
        assert self.outcome is not None  # the reader always ends with a terminal event
        return self.outcome

    def close(self) -> None:
        if self.process.process.poll() is None:
            self.process.cancel()
        shutil.rmtree(self.job_dir, ignore_errors=True)
        if self.staging is not None:  # an export that ended without files, or was killed
            shutil.rmtree(self.staging, ignore_errors=True)

    def _publish(self, result: dict[str, Any]) -> dict[str, Any]:
        """Mark the written folder as a Layerloom export and move it into place; the result with
        its paths in the final folder."""
        prepared = self.prepared
        written = self.staging or prepared.out_dir
        record = {
            "target": prepared.target,
            "run": prepared.run_id,
            "project": str(prepared.opened.path.resolve()),
            "created_at": records.now(),
            # Every file the export wrote (input.json and labels.txt included), relative to the
            # folder: what --overwrite replaces and `layerloom exports` points at.
            "files": _relative(result["files"], written),
        }
        write_manifest(written, record)
        if self.staging is None:
            return result
        publish(self.staging, prepared.out_dir)
        result = moved(result, self.staging, prepared.out_dir)
        self.staging = None
        return result

    def _finish(
        self,
        result: dict[str, Any] | None = None,
        sample_source: str = "",
        error: str | None = None,
    ) -> None:
        prepared = self.prepared
        outcome = ExportOutcome(
            id=None,
            target=prepared.target,
            run_id=prepared.run_id,
            status="error",
            out_dir=str(prepared.out_dir),
            options=prepared.options,
            seconds=time.monotonic() - self.started,
        )
        if result is not None and not self._cancelled:
            try:
                result = self._publish(result)
            except OSError as problem:
                result, error = None, f"the export could not be moved into place: {problem}"
        if self._cancelled:
            outcome.status, outcome.error = "cancelled", "the export was cancelled"
        elif result is not None:
            outcome.files = list(result["files"])
            outcome.parity = dict(result["parity"])
            outcome.runtime = result["runtime"]
            outcome.details = dict(result.get("details") or {})
            outcome.sample_source = sample_source
            if sample_source == "synthetic" and self.dataset_note:
                outcome.sample_source = f"synthetic ({self.dataset_note})"
            outcome.status = "passed" if outcome.parity.get("passed") else "failed"
            if outcome.status == "failed":
                # The target decides what a failed check means for its files (TF Serving hides
                # the version from a watching server).
                outcome.files, outcome.details = prepared.exporter.on_parity_failure(
                    outcome.files, outcome.details
                )
        else:
            outcome.error = error
        if outcome.status != "cancelled":
            outcome.id = _record(prepared, outcome)
        self.outcome = outcome


def _relative(files: list[str], folder: Path) -> list[str]:
    return sorted(
        Path(f).relative_to(folder).as_posix() for f in files if Path(f).is_relative_to(folder)
    )


def _record(prepared: PreparedExport, outcome: ExportOutcome) -> int:
    stored = {
        **outcome.parity,
        "files": outcome.files,
        "runtime": outcome.runtime,
        "details": outcome.details,
        "sample_source": outcome.sample_source,
        "checkpoint": {k: prepared.checkpoint[k] for k in ("kind", "epoch", "step")},
        "seconds": round(outcome.seconds, 3),
    }
    if outcome.error:
        stored["error"] = outcome.error
    return insert_export(
        _conn(prepared.opened),
        outcome.run_id,
        outcome.target,
        outcome.options,
        outcome.out_dir,
        stored,
        outcome.status,
    )


def start_export(prepared: PreparedExport, python: str | None = None) -> ExportSession:
    try:
        return ExportSession(prepared, python)
    except OSError as error:
        raise LayerloomError(f"cannot start the export: {error}") from error


def export(opened: OpenProject, target: str, out_dir: str | Path, **kwargs: Any) -> ExportOutcome:
    """Check, run and record one export, waiting for it (the CLI's path)."""
    session = start_export(prepare_export(opened, target, out_dir, **kwargs))
    try:
        return session.wait()
    finally:
        session.close()


def exports(opened: OpenProject) -> list[ExportRecord]:
    """Every recorded export, oldest first."""
    return list_exports(_conn(opened))
