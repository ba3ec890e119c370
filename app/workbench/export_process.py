"""The export worker as a child process: the one worker stack (``nodes.child_process``) set up for
converters.

Converters can crash natively (TF Lite's int8 calibration has segfaulted), so they never run in the
GUI's or the CLI's process. stderr goes to ``export.log`` in the job folder; a worker that dies
without a terminal event gets one synthesised ``failed`` event naming the signal or exit code.
Converters have no clean stop: cancel ends the process group (TERM, then KILL after 5 s).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from layerloom.exporters.job import EXPORT_EVENTS, ExportJob
from layerloom.nodes.child_process import ChildProcess, signal_name

Event = dict[str, Any]
CANCEL_GRACE_SECONDS = 5.0


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
        job_path = job.write(job_dir / "export-job.json")
        super().__init__(
            [python or sys.executable, "-m", "layerloom.exporters.worker", str(job_path)],
            job_dir / "export.log",
            EXPORT_EVENTS,
            exit_reason,
            stop_steps=((signal.SIGTERM, CANCEL_GRACE_SECONDS), (signal.SIGKILL, 0.0)),
            thread_name="layerloom-export",
        )

    def cancel(self) -> None:
        """End the converter: TERM, then KILL after a grace period, and wait for it."""
        self.stop()
        if self.alive():
            self.wait(timeout=CANCEL_GRACE_SECONDS + 5)
