"""TensorBoard logs of a project's runs: ``layerloom tensorboard`` and Run ▸ Export TensorBoard Logs.

Everything read from the project (each run's per-epoch metrics and the graph version it trained)
is read here, on the caller's thread; the event files are written by a worker job (kind
``tensorboard``, ``backends.keras_tensorboard``), since the graph needs TensorFlow. The worker
writes into a hidden staging folder inside ``DIR``; each ``DIR/run-N`` is replaced only once all
were written, so a failure leaves the folders of an earlier export as they were.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.training import _plan_for
from layerloom.backends import records, run_queries
from layerloom.backends.base import Backend
from layerloom.backends.protocol import Job
from layerloom.backends.registry import create_backend
from layerloom.nodes import training
from layerloom.nodes.errors import LayerloomError


@dataclass
class LogRun:
    run_id: int
    folder: Path
    scalars: int  # values written (every metric of every epoch, learning rate included)
    model: str  # 'graph' (the traced graph and the config) or 'config' (JAX: config text only)


@dataclass
class TensorBoardLogs:
    folder: Path
    runs: list[LogRun] = field(default_factory=list)


@dataclass
class Prepared:
    job: Job
    out: Path
    run_ids: list[int]


def folder_name(run_id: int) -> str:
    return f"run-{run_id}"


def prepare(opened: OpenProject, out: str | Path, run_id: int | None = None) -> Prepared:
    """The worker job for ``run_id`` (every run when None); refusals come here, before any
    worker starts."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise LayerloomError(f"{out} is a file: TensorBoard logs go into a folder")
    conn = opened.project.conn
    summaries = records.summaries(conn, run_id)
    if not summaries:
        if run_id is not None:
            raise LayerloomError(f"{opened.path.name} has no run {run_id}")
        raise LayerloomError(f"{opened.path.name} has no runs yet: train one first")
    runs: list[dict[str, Any]] = []
    for summary in summaries:
        runs.append(
            {
                "name": folder_name(summary.id),
                "plan": _plan_for(opened, summary.graph_version_id).to_json(),
                "scalars": run_queries.epoch_scalars(conn, summary.id),
            }
        )
    try:
        settings = training.resolve(training.load(opened.project))
    except training.SettingsError:
        settings = dict(training.DEFAULTS)
    job = Job(
        run_id=summaries[0].id,
        plan=runs[0]["plan"],
        dataset={},
        settings=settings,  # its device: the same worker (warm or not) as the project's jobs
        kind="tensorboard",
        base_dir=str(opened.path.resolve().parent),
        options={"runs": runs},
    )
    return Prepared(job, out, [s.id for s in summaries])


def write_prepared(prepared: Prepared, backend: Backend | None = None) -> TensorBoardLogs:
    """Run the job and put each run's folder in place. Touches no project: any thread."""
    out = prepared.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LayerloomError(f"cannot create the folder {out}: {error.strerror}") from None
    staging = Path(tempfile.mkdtemp(prefix=".tensorboard-", dir=out))
    try:
        prepared.job.options["logdir"] = str(staging)
        found = _run(prepared.job, backend)
        logs = TensorBoardLogs(out)
        for run_id, written in zip(prepared.run_ids, found["runs"], strict=True):
            target = out / written["name"]
            if target.exists():
                shutil.rmtree(target)
            (staging / written["name"]).rename(target)
            logs.runs.append(LogRun(run_id, target, int(written["scalars"]), written["model"]))
        return logs
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _run(job: Job, backend: Backend | None) -> dict[str, Any]:
    handle = (backend or create_backend()).start(job, {})
    try:
        found = None
        for event in handle.events():
            if event["type"] == "result":
                found = event.get("tensorboard")
            elif event["type"] == "failed":
                raise LayerloomError(f"writing the TensorBoard logs failed: {event['reason']}")
        if found is None:
            raise LayerloomError("writing the TensorBoard logs ended without a result")
        return found
    finally:
        handle.close()


def write_logs(
    opened: OpenProject,
    out: str | Path,
    run_id: int | None = None,
    backend: Backend | None = None,
) -> TensorBoardLogs:
    """TensorBoard event files for ``run_id`` (every run when None) in ``out/run-N``."""
    return write_prepared(prepare(opened, out, run_id), backend)
