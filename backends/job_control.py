"""What a running job obeys, wherever it runs: a stop request, and which code runs a job kind.

Shared by the worker process (``backends.worker``) and the in-process backend
(``backends.inprocess``), so both run exactly the same training and evaluation code.
"""

from __future__ import annotations

import signal
from types import FrameType

from layerloom.backends.protocol import EventWriter, Job

# Test hook: ``LAYERLOOM_WORKER_CRASH_AFTER_BATCHES=N`` makes the worker kill itself with SIGSEGV
# when batch N+1 is about to start, so tests can prove a crash is reported and recorded.
CRASH_HOOK = "LAYERLOOM_WORKER_CRASH_AFTER_BATCHES"


class StopRequest:
    """Checked by the training loop before each batch. Set by SIGINT/SIGTERM in a worker process,
    by ``request()`` in-process, and implied when the live reader of the events went away (a
    killed orchestrator): the job then stops cleanly, checkpointing, and its event log says so."""

    def __init__(self, writer: EventWriter | None = None) -> None:
        self._requested = False
        self.signal_name = ""
        self._writer = writer

    @property
    def requested(self) -> bool:
        return self._requested or bool(self._writer and self._writer.lost_sinks)

    def request(self, reason: str = "") -> None:
        self._requested = True
        self.signal_name = self.signal_name or reason

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.request(signal.Signals(signum).name)

    def install(self) -> None:
        signal.signal(signal.SIGINT, self)
        signal.signal(signal.SIGTERM, self)


def run_job(job: Job, writer: EventWriter, stop: StopRequest) -> None:
    """Run one job to its end; its events (terminal one included) go through ``writer``."""
    if job.kind == "evaluate":
        from layerloom.backends.keras_eval import evaluate

        evaluate(job, writer)
    else:
        from layerloom.backends.keras_train import train

        train(job, writer, stop)
