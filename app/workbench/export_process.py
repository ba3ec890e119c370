"""The export worker as a child process: start it, read its events, cancel it.

Converters can crash natively (TF Lite's int8 calibration has segfaulted), so they never run in the
GUI's or the CLI's process. stdout is read on a thread into a queue (``poll()`` for a GUI timer,
``events()`` for the CLI); stderr goes to ``export.log`` in the job folder. A worker that dies
without a terminal event gets one synthesised ``failed`` event naming the signal or exit code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from layerloom.exporters.job import TERMINAL, ExportJob, parse_event
from layerloom.nodes.child_process import ChildProcess, signal_name

Event = dict[str, Any]


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        name = signal_name(returncode)
        if name == "SIGKILL":
            return "the export process was killed (SIGKILL; the system may have run out of memory)"
        if name in ("SIGTERM", "SIGINT", "SIGHUP"):
            return f"the export was stopped ({name})"
        return f"the converter crashed ({name}); the app is fine, the export is not"
    return f"the export process exited with code {returncode} without reporting a result"


class ExportProcess(ChildProcess):
    def __init__(self, job: ExportJob, job_dir: Path, python: str | None = None) -> None:
        self.job_dir = job_dir
        log_path = job_dir / "export.log"
        job_path = job.write(job_dir / "export-job.json")
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["PYTHONUNBUFFERED"] = "1"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [python or sys.executable, "-m", "layerloom.exporters.worker", str(job_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                start_new_session=True,  # a terminal's Ctrl-C reaches us, not the converter
            )
        super().__init__(process, log_path, "layerloom-export")

    def _read(self) -> None:
        terminal = False
        stream: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            event = parse_event(line)
            if event is None:
                continue  # something wrote around the event stream; export.log has the rest
            terminal = terminal or event["type"] in TERMINAL
            self._events.put(event)
        returncode = self.process.wait()
        if not terminal:
            self._events.put(
                {"type": "failed", "reason": exit_reason(returncode), "detail": self.log_tail()}
            )
        self._events.end()

    def cancel(self) -> None:
        """Converters have no clean stop: end the process group (TERM, then KILL after 5 s)."""
        if self.process.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
