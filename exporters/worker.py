"""The export worker: ``python -m layerloom.exporters.worker JOB.json``. Converters run here,
never in the app.

A converter that segfaults (TF Lite's int8 calibration has done so) kills this process only; the
orchestrator reports the signal as the export's failure (``LAYERLOOM_EXPORT_CRASH=1`` simulates
it). stdout carries events only (``exporters.job``). Exit code: 0 after ``result`` (whether or not
parity passed), 1 after ``failed``.

``--warm JOB.json --device auto`` (the GUI's warm export pool, ``app.workbench.export_process``):
import Keras and the converters first, write ``ready`` next to ``JOB.json``, then wait for one line
on stdin; a line means the job is in ``JOB.json``: run it as above. End of input (the pool shut
down, or the app died): remove the unused folder and exit. An export sees all devices, warm or
cold, so ``auto`` is the only device.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import traceback
from pathlib import Path
from typing import IO

from layerloom.exporters.base import ExportContext
from layerloom.exporters.job import ExportJob, export_writer
from layerloom.exporters.registry import default_exporters
from layerloom.exporters.run import run_export
from layerloom.exporters.samples import collect
from layerloom.nodes.child_process import claim_stdout, describe_failure
from layerloom.nodes.datasets.contract import InputContract
from layerloom.nodes.events import EventWriter
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan

READY_FILE = "ready"  # as backends.warm.READY_FILE (exporters cannot import backends)
OUT_OF_MEMORY = "out of memory while exporting"
# Test hook: makes the worker kill itself with SIGSEGV right before converting, as a converter's
# native crash would, so tests can prove the app reports it and lives on.
CRASH_HOOK = "LAYERLOOM_EXPORT_CRASH"


def execute(job: ExportJob, events: EventWriter) -> None:
    exporter = default_exporters()[job.target]
    options = exporter.resolve_options(job.options)
    progress = lambda message: events.emit("progress", message=message)  # noqa: E731
    progress("loading the trained model")
    keras = load_keras()
    keras.utils.set_random_seed(job.seed)
    from layerloom.nodes.keras_build import build_model

    plan = BuildPlan.from_json(job.plan)
    model = build_model(plan)
    model.load_weights(job.weights)
    needs_calibration = exporter.needs_calibration(options) is not None
    progress("reading the parity batch")
    batches = collect(
        plan,
        job.dataset,
        job.base_dir,
        size=job.sample_size,
        calibration=job.calibration if needs_calibration else 0,
        seed=job.seed,
    )
    ctx = ExportContext(
        model=model,
        plan=plan,
        out_dir=Path(job.out_dir),
        options=options,
        sample=batches.sample,
        representative=batches.representative,
        class_names=batches.class_names,
        task=batches.task,
        model_name=job.model_name,
        weights_file=Path(job.weights),
        progress=progress,
        contract=InputContract.from_json(job.contract) if job.contract else None,
        example_row=job.example_row,
    )
    if os.environ.get(CRASH_HOOK):
        os.kill(os.getpid(), signal.SIGSEGV)
    result = run_export(exporter, ctx)
    events.emit("result", result=result.to_json(), sample_source=batches.source)


def main(job_path: str, stdout: IO[str] | None = None) -> int:
    stdout = stdout or claim_stdout()
    events = export_writer(stdout)
    try:
        execute(ExportJob.read(job_path), events)
    except BaseException as error:  # noqa: BLE001 - every failure must reach the orchestrator
        events.emit(
            "failed",
            reason=describe_failure(error, OUT_OF_MEMORY),
            detail=traceback.format_exc(),
        )
        return 1
    finally:
        stdout.flush()
    return 0


def warm_main(job_path: str) -> int:
    """Wait, Keras imported, for the go line; then be ``main`` on ``job_path``."""
    folder = Path(job_path).resolve().parent
    stdout = claim_stdout()
    load_keras()
    default_exporters()
    (folder / READY_FILE).write_text(str(os.getpid()), encoding="utf-8")
    if not sys.stdin.readline().strip():
        shutil.rmtree(folder, ignore_errors=True)
        return 0
    return main(job_path, stdout)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--warm" and sys.argv[3:] == ["--device", "auto"]:
        sys.exit(warm_main(sys.argv[2]))
    if len(sys.argv) != 2:
        print(
            "usage: python -m layerloom.exporters.worker JOB.json\n"
            "       python -m layerloom.exporters.worker --warm JOB.json --device auto",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
