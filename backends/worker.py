"""The worker: the only code that trains. ``python -m layerloom.backends.worker JOB.json``
(or ``layerloom worker JOB.json``).

It reads one job (``backends.protocol.Job``), writes JSON-Lines events to stdout and checkpoints
into the job's folder, and never touches the project file. stdout carries events only: the real
stdout is kept for them and file descriptor 1 is pointed at stderr, so TensorFlow's C++ chatter and
any stray ``print`` cannot corrupt the stream.

SIGINT and SIGTERM ask for a clean stop: the current batch finishes, the last checkpoint is
written and ``finished`` is sent with status ``cancelled``. Any exception becomes a ``failed`` event
with one readable line (the traceback goes to ``detail``). Exit code: 0 after ``finished``, 1 after
``failed``.

Test hook: ``LAYERLOOM_WORKER_CRASH_AFTER_BATCHES=N`` makes the worker kill itself with SIGSEGV
when batch N+1 is about to start, so tests can prove a crash is reported and recorded.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from types import FrameType

from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.child_process import OUT_OF_MEMORY, claim_stdout, describe_failure

__all__ = ["OUT_OF_MEMORY", "describe_failure", "main"]

CRASH_HOOK = "LAYERLOOM_WORKER_CRASH_AFTER_BATCHES"


class StopRequest:
    """Set by SIGINT/SIGTERM; the training loop checks it before each batch."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        self.signal_name = signal.Signals(signum).name

    def install(self) -> None:
        signal.signal(signal.SIGINT, self)
        signal.signal(signal.SIGTERM, self)


def select_devices(device: str) -> None:
    """Hide GPUs before TensorFlow starts: the only moment visibility can be chosen for sure."""
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    elif device.startswith("gpu:"):
        os.environ["CUDA_VISIBLE_DEVICES"] = device.split(":", 1)[1]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_job(job: Job, writer: EventWriter, stop: StopRequest) -> None:
    if job.kind == "evaluate":
        from layerloom.backends.keras_eval import evaluate

        evaluate(job, writer)
    else:
        from layerloom.backends.keras_train import train

        train(job, writer, stop)


def main(job_path: str) -> int:
    events = claim_stdout()
    writer = EventWriter(events)
    stop = StopRequest()
    stop.install()
    try:
        job = Job.read(job_path)
        select_devices(str(job.settings.get("device", "auto")))
        run_job(job, writer, stop)
    except BaseException as error:  # noqa: BLE001 - every failure must reach the orchestrator
        writer.emit(
            "failed",
            reason=describe_failure(error),
            error_type=type(error).__name__,
            detail=traceback.format_exc(),
        )
        return 1
    finally:
        events.flush()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m layerloom.backends.worker JOB.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
