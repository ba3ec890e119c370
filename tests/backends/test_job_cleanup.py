"""Job folders a killed orchestrator or worker left in the temp folder are removed at the next
start, but only those whose job ENDED and whose owner is gone (issue #15 item 12). Real processes
stand for the worker and the owner; no TensorFlow."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from layerloom.backends.local import clean_stale_jobs
from layerloom.nodes.job_folders import OWNER_FILE


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def job_folder(root: Path, name: str, worker_pid: int, owner_pid: int | None) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "pid").write_text(str(worker_pid))
    if owner_pid is not None:
        (folder / OWNER_FILE).write_text(f"{socket.gethostname()} {owner_pid}")
    return folder


def test_only_ended_jobs_of_gone_owners_are_cleaned(tmp_path) -> None:
    running = tmp_path / "layerloom-train-3-running"
    # A live "worker": its command line names its folder, as a real worker's does.
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(running)])
    try:
        job_folder(tmp_path, running.name, worker.pid, dead_pid())
        killed = job_folder(tmp_path, "layerloom-train-1-killed", dead_pid(), dead_pid())
        old_name = job_folder(tmp_path, "layerloom-run-2-old", dead_pid(), dead_pid())
        evaluated = job_folder(tmp_path, "layerloom-evaluate-1-x", dead_pid(), dead_pid())
        owned = job_folder(tmp_path, "layerloom-train-4-owned", dead_pid(), os.getpid())
        unowned = job_folder(tmp_path, "layerloom-train-5-unowned", dead_pid(), None)
        stranger = tmp_path / "somebody-else"
        stranger.mkdir()
        removed = clean_stale_jobs(tmp_path)
        assert sorted(removed) == sorted([killed, old_name, evaluated])
        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == sorted([running.name, owned.name, unowned.name, stranger.name])
    finally:
        worker.kill()
        worker.wait()
