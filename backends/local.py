"""The local transport: the worker in a child process on this machine.

TensorFlow's memory, threads and crashes stay in the child. The child gets its own process group
(so a terminal's Ctrl-C reaches only the orchestrator, which decides to cancel), its stdout is read
line by line on a thread into a queue (a GUI polls ``poll()`` from a timer; the CLI iterates
``events()``), and its stderr goes to ``worker.log`` in the job folder so the pipe can never fill.

A worker that dies without a terminal event (segfault, SIGKILL, the kernel's OOM killer) gets one
synthesised ``failed`` event that names the signal or exit code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from layerloom.backends.protocol import TERMINAL, Job, ProtocolError, make_event, parse_line
from layerloom.nodes.child_process import ChildProcess, signal_name

# After SIGINT, before SIGTERM; and again before SIGKILL. The worker stops at the next batch, but
# a stop asked during a long validation pass waits for its next batch too.
GRACE_SECONDS = 30.0


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


class RunProcess(ChildProcess):
    """One running worker: its events, cancel and wait."""

    def __init__(self, process: subprocess.Popen[bytes], job_dir: Path) -> None:
        self.job_dir = job_dir
        self._cancel_timer: threading.Thread | None = None
        self._cancelling = threading.Event()
        super().__init__(process, job_dir / "worker.log", "layerloom-events")

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        """Parse stdout into the queue; at EOF, make sure the stream ends with a terminal event."""
        last_seq, terminal = 0, False
        stream: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        for raw in stream:
            if not raw.strip():
                continue
            try:
                event = parse_line(raw)
            except ProtocolError as error:
                # Stray output is shown, not fatal: the worker keeps stdout for events, so this
                # means something wrote around it (a native library).
                event = make_event(last_seq + 1, "log", level="warning", message=str(error))
            last_seq = max(last_seq, event["seq"])
            terminal = terminal or event["type"] in TERMINAL
            self._events.put(event)
        returncode = self.process.wait()
        if not terminal:
            self._events.put(
                make_event(
                    last_seq + 1,
                    "failed",
                    reason=exit_reason(returncode),
                    returncode=returncode,
                    detail=self.log_tail(),
                )
            )
        self._events.end()

    def cancel(self, grace: float = GRACE_SECONDS) -> None:
        """Ask the worker to stop cleanly (SIGINT), then insist (SIGTERM, then SIGKILL)."""
        if self.process.poll() is not None or self._cancelling.is_set():
            return
        self._cancelling.set()
        self._signal(signal.SIGINT)
        self._cancel_timer = threading.Thread(
            target=self._escalate, args=(grace,), name="layerloom-cancel", daemon=True
        )
        self._cancel_timer.start()

    def _escalate(self, grace: float) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                self.process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                self._signal(sig)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


class LocalBackend:
    """Starts workers as child processes of this one."""

    def __init__(self, python: str | None = None, env: dict[str, str] | None = None) -> None:
        self.python = python or sys.executable
        self.env = env

    def command(self, job_path: Path) -> list[str]:
        return [self.python, "-m", "layerloom.backends.worker", str(job_path)]

    def start(self, job: Job) -> RunProcess:
        job_dir = Path(job.job_dir)
        job_dir.mkdir(parents=True, exist_ok=True)
        job_path = job.write(job_dir / "job.json")
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["PYTHONUNBUFFERED"] = "1"
        with open(job_dir / "worker.log", "ab") as log:
            process = subprocess.Popen(
                self.command(job_path),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                # Its own session: a terminal's Ctrl-C goes to us, and we forward a clean SIGINT.
                start_new_session=True,
            )
        return RunProcess(process, job_dir)
