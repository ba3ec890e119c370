"""The worker: the only code that trains. ``python -m layerloom.backends.worker JOB.json``
(or ``layerloom worker JOB.json``).

It reads one job (``backends.protocol.Job``) from its job folder, writes every event to stdout and
to ``events.jsonl`` there, writes checkpoints there, and never touches the project file. stdout
carries events only: the real stdout is kept for them and file descriptor 1 is pointed at stderr,
so TensorFlow's C++ chatter and any stray ``print`` cannot corrupt the stream. ``pid`` is written
first and ``exit`` last, so a backend can tell a running job from one that ended.

``--warm JOB.json --device DEVICE`` starts a warm worker (``backends.warm``): TensorFlow is
imported before the job exists; the job is run once a line arrives on stdin.

SIGINT and SIGTERM ask for a clean stop: the current batch finishes, the last checkpoint is
written and ``finished`` is sent with status ``cancelled``. A reader of stdout that goes away (a
killed orchestrator) asks for the same stop; the event log keeps the rest for whoever attaches.
Any exception becomes a ``failed`` event with one readable line (the traceback goes to
``detail``). Exit code: 0 after ``finished``, 1 after ``failed``.
"""

from __future__ import annotations

import gc
import importlib
import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import IO

from layerloom.backends.job_control import JOB_KINDS, StopRequest, run_job
from layerloom.backends.protocol import EVENT_LOG, EXIT_FILE, PID_FILE, Job, event_writer
from layerloom.backends.warm import READY_FILE
from layerloom.nodes.child_process import OUT_OF_MEMORY, claim_stdout, describe_failure

__all__ = ["OUT_OF_MEMORY", "describe_failure", "main"]


def select_devices(device: str) -> None:
    """Hide GPUs before TensorFlow (or JAX) starts: the only moment visibility can be chosen for
    sure. Which Keras backend trains is ``KERAS_BACKEND`` (``jax``: ``backends.keras_jax``), read
    when Keras is first imported, which happens after this."""
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        if os.environ.get("KERAS_BACKEND") == "jax":
            os.environ["JAX_PLATFORMS"] = "cpu"  # a TPU VM's TPU too
    elif device.startswith("gpu:"):
        os.environ["CUDA_VISIBLE_DEVICES"] = device.split(":", 1)[1]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(job_path: str) -> int:
    folder = Path(job_path).resolve().parent
    (folder / PID_FILE).write_text(str(os.getpid()), encoding="utf-8")
    return run(job_path, claim_stdout(), select=True)


def run(job_path: str, stdout: IO[str], select: bool) -> int:
    """Run the job in ``job_path``'s folder, its events on ``stdout`` and in the event log."""
    folder = Path(job_path).resolve().parent
    with open(folder / EVENT_LOG, "a", encoding="utf-8") as log:
        writer = event_writer(log, stdout)
        stop = StopRequest(writer)
        stop.install()
        code = 0
        try:
            job = Job.read(job_path)
            job.job_dir = str(folder)  # wherever the folder was moved or mounted
            if select:  # a warm worker chose its devices before importing TensorFlow
                select_devices(str(job.settings.get("device", "auto")))
            run_job(job, writer, stop)
        except BaseException as error:  # noqa: BLE001 - every failure must reach the orchestrator
            writer.emit(
                "failed",
                reason=describe_failure(error),
                error_type=type(error).__name__,
                detail=traceback.format_exc(),
            )
            code = 1
    (folder / EXIT_FILE).write_text(str(code), encoding="utf-8")
    return code


def warm_main(job_path: str, device: str) -> int:
    """A warm worker (``backends.warm``): choose the devices, import Keras and the job code, say
    ``ready``, then wait for one line on stdin. A line: the job is in ``job_path``, run it as
    ``main`` would. End of input (the orchestrator shut the pool down, or died): remove the
    unused folder and exit."""
    folder = Path(job_path).resolve().parent
    stdout = claim_stdout()
    select_devices(device)
    preload()
    (folder / READY_FILE).write_text(str(os.getpid()), encoding="utf-8")
    if not sys.stdin.readline().strip():
        shutil.rmtree(folder, ignore_errors=True)
        return 0
    (folder / PID_FILE).write_text(str(os.getpid()), encoding="utf-8")
    return run(job_path, stdout, select=False)


def preload() -> None:
    """What every TensorFlow-backed job imports first: Keras (and its backend) and the job code."""
    from layerloom.nodes.keras_runtime import load_keras

    load_keras()
    for target in JOB_KINDS.values():
        importlib.import_module(target.split(":")[0])
    # TensorFlow's import leaves ~400,000 long-lived objects that every full collection would walk
    # again while the job builds its models: out of the collector's sight, a DenseNet121 import
    # job runs ~0.2 s (8%) faster.
    gc.freeze()


def parse_args(argv: list[str]) -> tuple[str, str | None]:
    """(job path, warm device or None); SystemExit(2) with a usage line otherwise."""
    if len(argv) == 1:
        return argv[0], None
    if len(argv) == 4 and argv[0] == "--warm" and argv[2] == "--device":
        return argv[1], argv[3]
    print(
        "usage: python -m layerloom.backends.worker JOB.json\n"
        "       python -m layerloom.backends.worker --warm JOB.json --device DEVICE",
        file=sys.stderr,
    )
    sys.exit(2)


if __name__ == "__main__":
    path, warm_device = parse_args(sys.argv[1:])
    sys.exit(main(path) if warm_device is None else warm_main(path, warm_device))
