"""The local backend: the worker in a child process on this machine.

TensorFlow's memory, threads and crashes stay in the child. Each job has a folder under the
backend's root (the system's temp folder by default); its path is the job's id. A job started by
this process is read live from the worker's stdout (``LocalRun``); a job found again by id, from a
later process, is read from its ``events.jsonl`` (``AttachedRun``). Either way the events resume
after any sequence number.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from layerloom.backends.base import BackendInfo, JobState, RunHandle
from layerloom.backends.protocol import (
    EVENT_LOG,
    EXIT_FILE,
    JOB_FILE,
    PID_FILE,
    TRAINING_EVENTS,
    WORKER_LOG,
    Job,
)
from layerloom.backends.warm import WARM_POOL
from layerloom.nodes.child_process import ChildProcess, log_tail, signal_name
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.events import EventBuffer, EventLog, FollowsBuffer
from layerloom.nodes.job_folders import make_job_folder, owner_gone, process_alive

# After SIGINT, before SIGTERM; and again before SIGKILL. The worker stops at the next batch, but
# a stop asked during a long validation pass waits for its next batch too.
GRACE_SECONDS = 30.0
ATTACH_POLL_SECONDS = 0.1


def exit_reason(returncode: int) -> str:
    """Why a worker ended without reporting, in words."""
    if returncode < 0:
        name = signal_name(returncode)
        if name == "SIGKILL":
            return (
                "the training process was killed (SIGKILL; the system may have run out of memory)"
            )
        if name in ("SIGTERM", "SIGINT", "SIGHUP"):
            return f"the training process was stopped ({name}) before it could report"
        return f"the training process crashed ({name})"
    return f"the training process exited with code {returncode} without reporting a result"


def job_state(folder: Path) -> JobState:
    """Running while the worker named in ``pid`` lives and has not written ``exit``."""
    if not folder.is_dir() or (folder / EXIT_FILE).exists():
        return JobState.ENDED
    try:
        pid = int((folder / PID_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return JobState.ENDED  # the worker writes its pid first: it never started
    if not _is_worker(pid, folder):
        return JobState.ENDED
    return JobState.RUNNING


def _is_worker(pid: int, folder: Path) -> bool:
    if not process_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:  # a recycled pid belongs to some other program
        return str(folder) in cmdline.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return True  # no /proc here: the pid is alive, assume it is ours


def _file_in(folder: Path, name: str) -> Path:
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise LayerloomError(f"{name!r} is not a file of job {folder}")
    return path


class LocalRun(ChildProcess):
    """A job this process started: its worker's stdout, read live."""

    def __init__(
        self,
        folder: Path,
        command: list[str],
        env: dict[str, str] | None,
        process: subprocess.Popen | None = None,
    ) -> None:
        self.folder = folder
        self.job_id = str(folder)
        # Why this process killed its own worker, if it did: a SIGKILL we sent must never be
        # reported as the system running out of memory.
        self.killed_because: str | None = None
        super().__init__(
            command,
            folder / WORKER_LOG,
            TRAINING_EVENTS,
            self._describe_exit,
            env=env,
            stop_steps=(
                (signal.SIGINT, GRACE_SECONDS),
                (signal.SIGTERM, GRACE_SECONDS),
                (signal.SIGKILL, 0.0),
            ),
            process=process,
        )
        self.warm = process is not None  # a warm worker took the job (backends.warm)

    def _describe_exit(self, returncode: int) -> str:
        if self.killed_because and returncode == -signal.SIGKILL:
            return f"the training process was ended by Layerloom: {self.killed_because}"
        return exit_reason(returncode)

    def _signal(self, sig: signal.Signals) -> None:
        if sig == signal.SIGKILL and self.killed_because is None:
            self.killed_because = f"it had not stopped {2 * GRACE_SECONDS:.0f} s after being asked"
        super()._signal(sig)

    def kill(self, because: str = "it was asked to end at once (a second Ctrl-C or Stop)") -> None:
        self.killed_because = self.killed_because or because
        super().kill()

    def state(self) -> JobState:
        return JobState.RUNNING if self.alive() else JobState.ENDED

    def fetch(self, name: str) -> bytes:
        return _file_in(self.folder, name).read_bytes()

    def detach(self) -> None:
        # The pipe stays open while this process lives: the worker is not disturbed. The marker
        # keeps the folder from the next start's clean-up until someone attaches.
        with contextlib.suppress(OSError):
            (self.folder / DETACHED_FILE).touch()

    def close(self) -> None:
        if self.alive():
            self.kill("the process recording the run closed it before the end")
            self.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


class AttachedRun(FollowsBuffer):
    """A job found again by its folder: ``events.jsonl`` tailed until the terminal event."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.job_id = str(folder)
        self.buffer = EventBuffer()
        self._log = EventLog(folder / EVENT_LOG, TRAINING_EVENTS)
        self._closed = threading.Event()
        self._tailer = threading.Thread(target=self._tail, name="layerloom-attach", daemon=True)
        self._tailer.start()

    def _tail(self) -> None:
        while not self._closed.is_set():
            ended = job_state(self.folder) is JobState.ENDED  # read before the log: no race
            for event in self._log.read_after(self.buffer.last_seq):
                self.buffer.add(event)
                if TRAINING_EVENTS.is_terminal(event):
                    self.buffer.end()
                    return
            if ended:
                self.buffer.add(
                    TRAINING_EVENTS.make(
                        self.buffer.last_seq + 1,
                        "failed",
                        reason="the training process ended without reporting a result",
                        detail=log_tail(self.folder / WORKER_LOG),
                    )
                )
                self.buffer.end()
                return
            self._closed.wait(ATTACH_POLL_SECONDS)
        self.buffer.end()

    def _signal(self, sig: signal.Signals) -> None:
        try:
            pid = int((self.folder / PID_FILE).read_text(encoding="utf-8"))
            if _is_worker(pid, self.folder):
                os.killpg(pid, sig)  # the worker leads its own session (start_new_session)
        except (OSError, ValueError):
            pass

    def stop(self) -> None:
        self._signal(signal.SIGINT)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def state(self) -> JobState:
        return job_state(self.folder)

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.state() is JobState.RUNNING:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {self.job_id} still runs after {timeout} s")
            time.sleep(ATTACH_POLL_SECONDS)
        try:
            return int((self.folder / EXIT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def fetch(self, name: str) -> bytes:
        return _file_in(self.folder, name).read_bytes()

    def detach(self) -> None:
        self._closed.set()

    def close(self) -> None:
        self._closed.set()
        if self.state() is JobState.RUNNING:
            self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


# Job folders of this backend, and of the older names it used; each holds the owner file
# (nodes/job_folders.py, shared with the export jobs).
JOB_PREFIXES = ("layerloom-train-", "layerloom-evaluate-", "layerloom-run-")
DETACHED_FILE = "detached"  # the recorder let the job go on alone: an attacher will want it
# A detached job's folder waits this long for someone to attach.
DETACHED_GRACE_SECONDS = 7 * 24 * 3600.0


def clean_stale_jobs(root: Path) -> list[Path]:
    """Remove the job folders a killed process left behind: only those whose job has ENDED and
    whose owner process is gone (never a running job's, nor one another live process records),
    and a detached job's only after DETACHED_GRACE_SECONDS. Returns what was removed."""
    removed = []
    try:
        candidates = [p for p in root.iterdir() if p.name.startswith(JOB_PREFIXES)]
    except OSError:
        return removed
    for folder in candidates:
        try:
            if not folder.is_dir() or job_state(folder) is not JobState.ENDED:
                continue
            if (folder / DETACHED_FILE).exists() and (
                time.time() - folder.stat().st_mtime < DETACHED_GRACE_SECONDS
            ):
                continue
            if not owner_gone(folder):
                continue
        except OSError:
            continue  # vanished meanwhile, or not ours to read
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


class LocalBackend:
    """Starts workers as child processes of this one."""

    name = "local"

    def __init__(
        self,
        python: str | None = None,
        env: dict[str, str] | None = None,
        root: str | Path | None = None,
    ) -> None:
        self.python = python or sys.executable
        self.env = env
        self.root = Path(root or tempfile.gettempdir())

    def info(self) -> BackendInfo:
        return BackendInfo(name=self.name, host=socket.gethostname())

    def command(self, job_path: Path) -> list[str]:
        return [self.python, "-m", "layerloom.backends.worker", str(job_path)]

    def check(self) -> None:
        pass  # this machine is always there

    def start(self, job: Job, files: Mapping[str, bytes] | None = None) -> LocalRun:
        """Start ``job`` in a new job folder: on the warm worker when one was started for jobs
        like it (``backends.warm``: the GUI keeps one), else on a new, cold worker."""
        self.root.mkdir(parents=True, exist_ok=True)
        clean_stale_jobs(self.root)  # what killed orchestrators and workers left behind
        device = str(job.settings.get("device", "auto"))
        warm = WARM_POOL.take(self.python, self.root, device, self.env)
        if warm is not None:
            folder = warm.folder
        else:
            folder = make_job_folder(f"layerloom-{job.kind}-{job.run_id}-", self.root)
        job.job_dir = str(folder)
        for name, data in (files or {}).items():
            _file_in(folder, name).write_bytes(data)
        job_path = job.write(folder / JOB_FILE)
        if warm is not None:
            return LocalRun(folder, self.command(job_path), self.env, warm.hand_over())
        return LocalRun(folder, self.command(job_path), self.env)

    def attach(self, job_id: str) -> RunHandle:
        folder = Path(job_id)
        if not (folder / JOB_FILE).is_file():
            raise LayerloomError(f"no local job {job_id} (its folder is gone)")
        return AttachedRun(folder)

    def state(self, job_id: str | None) -> JobState:
        return job_state(Path(job_id)) if job_id else JobState.ENDED
