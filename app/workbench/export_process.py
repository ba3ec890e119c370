"""The export worker as a child process: the one worker stack (``nodes.child_process``) set up for
converters.

Converters can crash natively (TF Lite's int8 calibration has segfaulted), so they never run in the
GUI's or the CLI's process. stderr goes to ``export.log`` in the job folder; a worker that dies
without a terminal event gets one synthesised ``failed`` event naming the signal or exit code.
Converters have no clean stop: cancel ends the process group (TERM, then KILL after 5 s).

Each export's job folder (``layerloom-export-*`` in the system's temp folder: the job, the weights,
the log) carries the owner file of ``nodes.job_folders``. ``clean_stale_export_jobs`` runs before
every export and removes what a killed CLI, GUI or worker left: the folders whose owner is gone,
the staging folder each was writing into, and the orphaned worker itself, whose result nobody is
left to record or move into place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from layerloom.app.workbench.export_folder import STAGING
from layerloom.backends.warm import WarmKind, WarmPool, WarmWorker
from layerloom.exporters.job import EXPORT_EVENTS, ExportJob
from layerloom.nodes.child_process import ChildProcess, signal_name
from layerloom.nodes.job_folders import make_job_folder, owner_gone, processes_using

Event = dict[str, Any]
CANCEL_GRACE_SECONDS = 5.0
JOB_PREFIX = "layerloom-export-"
JOB_FILE = "export-job.json"
LOG_FILE = "export.log"
# The GUI's warm export worker (``backends.warm``, held with the training one by
# ``warm_worker.hold``): its folder is an export job folder (this module's prefix, owner file, the
# worker's command line names it), so cancel, stale cleanup and ``close`` treat it as a cold one's.
EXPORT_POOL = WarmPool(
    WarmKind("layerloom.exporters.worker", f"{JOB_PREFIX}warm-", JOB_FILE, LOG_FILE)
)


def take_warm(python: str | None = None) -> WarmWorker | None:
    """The waiting warm export worker when one suits this process's settings (None: start cold)."""
    return EXPORT_POOL.take(python or sys.executable, Path(tempfile.gettempdir()), "auto", None)


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
    def __init__(
        self,
        job: ExportJob,
        job_dir: Path,
        python: str | None = None,
        warm: WarmWorker | None = None,
    ) -> None:
        """``warm``: a warm worker whose folder is ``job_dir``; it runs the job instead of a
        fresh process."""
        self.job_dir = job_dir
        job_path = job.write(job_dir / JOB_FILE)
        super().__init__(
            [python or sys.executable, "-m", "layerloom.exporters.worker", str(job_path)],
            job_dir / LOG_FILE,
            EXPORT_EVENTS,
            exit_reason,
            stop_steps=((signal.SIGTERM, CANCEL_GRACE_SECONDS), (signal.SIGKILL, 0.0)),
            thread_name="layerloom-export",
            process=warm.hand_over() if warm is not None else None,
        )

    def cancel(self) -> None:
        """End the converter: TERM, then KILL after a grace period, and wait for it."""
        self.stop()
        if self.alive():
            self.wait(timeout=CANCEL_GRACE_SECONDS + 5)


def new_job_folder(target: str, root: str | Path | None = None) -> Path:
    """A job folder for one export, owned by this process; stale ones are removed first."""
    clean_stale_export_jobs(root)
    return make_job_folder(f"{JOB_PREFIX}{target}-", root)


def clean_stale_export_jobs(root: str | Path | None = None) -> list[Path]:
    """Remove the export job folders whose owner process is gone, with the staging folder each
    export was writing (never moved into place: its owner died first) and any worker still
    running for it. A live owner's folders are never touched. Returns what was removed."""
    base = Path(root or tempfile.gettempdir())
    removed = []
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(JOB_PREFIX) and p.is_dir()]
    except OSError:
        return removed
    for folder in candidates:
        try:
            if not owner_gone(folder):
                continue
        except OSError:
            continue  # vanished meanwhile, or not ours to read
        for pid in processes_using(folder):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)  # an orphan: it would write into a removed folder
        staging = _staging_of(folder)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _staging_of(folder: Path) -> Path | None:
    """The hidden staging folder the job wrote into, if it was one (export_folder.STAGING): an
    export written in place (a serving version) stages and renames its own version."""
    try:
        out_dir = Path(json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))["out_dir"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return out_dir if STAGING in out_dir.name and out_dir.name.startswith(".") else None
