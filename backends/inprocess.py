"""The in-process backend: the worker's own code (``job_control.run_job``) on a thread of this
process. No child, no pipe: the second implementation of the ``Backend`` seam, used by tests to
drive the workbench through the protocol alone, and cheap where TensorFlow is already loaded.

Events go through the same ``EventWriter`` as in the worker, into an ``EventBuffer`` and into the
job folder's ``events.jsonl``; checkpoints land in the job folder as they do locally.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import tempfile
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from layerloom.backends.base import BackendInfo, JobState
from layerloom.backends.job_control import StopRequest, run_job
from layerloom.backends.protocol import EVENT_LOG, JOB_FILE, Job, event_writer, parse_line
from layerloom.nodes.child_process import describe_failure
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.events import EventBuffer, FollowsBuffer


class _BufferSink:
    """A text sink that hands each complete event line to an ``EventBuffer``."""

    def __init__(self, buffer: EventBuffer) -> None:
        self.buffer = buffer

    def write(self, line: str) -> int:
        self.buffer.add(parse_line(line))
        return len(line)

    def flush(self) -> None:
        pass


class ThreadRun(FollowsBuffer):
    def __init__(self, folder: Path, job: Job) -> None:
        self.folder = folder
        self.job_id = str(folder)
        self.buffer = EventBuffer()
        self._log: IO[str] = open(folder / EVENT_LOG, "a", encoding="utf-8")  # noqa: SIM115
        self.writer = event_writer(self._log, _BufferSink(self.buffer))  # type: ignore[arg-type]
        self.stop_request = StopRequest()
        self._thread = threading.Thread(
            target=self._run, args=(job,), name=f"layerloom-job-{job.run_id}", daemon=True
        )
        self._thread.start()

    def _run(self, job: Job) -> None:
        try:
            run_job(job, self.writer, self.stop_request)
        except BaseException as error:  # noqa: BLE001 - as the worker does: one failed event
            self.writer.emit(
                "failed",
                reason=describe_failure(error),
                error_type=type(error).__name__,
                detail=traceback.format_exc(),
            )
        finally:
            if not self.writer.closed:  # a job that returned without its terminal event
                self.writer.emit("failed", reason="the job ended without reporting a result")
            self._log.close()
            self.buffer.end()

    def stop(self) -> None:
        self.stop_request.request("stop")

    def kill(self) -> None:
        # A thread cannot be killed; the next batch boundary is the soonest it can end.
        self.stop_request.request("kill")

    def state(self) -> JobState:
        return JobState.RUNNING if self._thread.is_alive() else JobState.ENDED

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"job {self.job_id} still runs after {timeout} s")
        last = self.buffer.after(0)[-1:]
        return 0 if last and last[0]["type"] == "finished" else 1

    def fetch(self, name: str) -> bytes:
        path = (self.folder / name).resolve()
        if self.folder.resolve() not in path.parents:
            raise LayerloomError(f"{name!r} is not a file of job {self.folder}")
        return path.read_bytes()

    def detach(self) -> None:
        pass  # the thread goes on while this process lives; attach finds it by id

    def close(self) -> None:
        if self._thread.is_alive():
            self.kill()
            self._thread.join(60)
        shutil.rmtree(self.folder, ignore_errors=True)


class InProcessBackend:
    """Runs each job on a thread of this process; jobs are found again by id while it lives."""

    name = "inprocess"
    _ids = itertools.count(1)

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root or tempfile.gettempdir())
        self._runs: dict[str, ThreadRun] = {}

    def info(self) -> BackendInfo:
        return BackendInfo(name=self.name, host=socket.gethostname())

    def check(self) -> None:
        pass  # this machine is always there

    def start(self, job: Job, files: Mapping[str, bytes] | None = None) -> ThreadRun:
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"layerloom-thread-{job.run_id}-", dir=self.root))
        job.job_dir = str(folder)
        for name, data in (files or {}).items():
            (folder / name).write_bytes(data)
        job.write(folder / JOB_FILE)
        run = ThreadRun(folder, job)
        self._runs[run.job_id] = run
        return run

    def attach(self, job_id: str) -> ThreadRun:
        try:
            return self._runs[job_id]
        except KeyError:
            raise LayerloomError(f"no in-process job {job_id}") from None

    def state(self, job_id: str | None) -> JobState:
        run = self._runs.get(job_id or "")
        return run.state() if run else JobState.ENDED
