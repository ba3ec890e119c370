"""What a running job obeys, wherever it runs: a stop request, and which code runs a job kind.

Shared by the worker process (``backends.worker``) and the in-process backend
(``backends.inprocess``), so both run exactly the same training and evaluation code.
"""

from __future__ import annotations

import importlib
import signal
from types import FrameType

from layerloom.backends.protocol import EventWriter, Job, ProtocolError

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


# Which function runs a job kind: "module:function", imported only when a job of that kind runs
# (training code costs TensorFlow). Each takes (job, writer, stop). A new kind is one entry here.
JOB_KINDS: dict[str, str] = {
    "train": "layerloom.backends.keras_train:train",
    "import": "layerloom.backends.keras_import:run_import",
    "evaluate": "layerloom.backends.keras_eval:evaluate",
    "predict": "layerloom.backends.keras_predict:predict",
    "inspect": "layerloom.backends.keras_inspect:inspect",
    "explain": "layerloom.backends.keras_explain:explain",
    "tensorboard": "layerloom.backends.keras_tensorboard:write_logs",
}


def run_job(job: Job, writer: EventWriter, stop: StopRequest) -> None:
    """Run one job to its end; its events (terminal one included) go through ``writer``."""
    target = JOB_KINDS.get(job.kind)
    if target is None:
        raise ProtocolError(
            f"unknown job kind {job.kind!r}; this worker runs {', '.join(sorted(JOB_KINDS))}"
        )
    module, function = target.split(":")
    getattr(importlib.import_module(module), function)(job, writer, stop)
