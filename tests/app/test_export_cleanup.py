"""Export job folders (``layerloom-export-*``) a killed CLI, GUI or export worker left behind are
removed before the next export, with the staging folder they wrote into and any orphaned worker,
through the same owner file as training jobs (issue #15 item 12). Real processes stand for the
owner and the worker; no TensorFlow. The kill test (test_kill.py) does it with real exports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from layerloom.app.workbench.export_process import (
    JOB_FILE,
    clean_stale_export_jobs,
    new_job_folder,
)
from layerloom.nodes.job_folders import OWNER_FILE


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def export_job(root: Path, name: str, owner_pid: int, out_dir: Path) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / OWNER_FILE).write_text(f"{socket.gethostname()} {owner_pid}")
    (folder / JOB_FILE).write_text(json.dumps({"out_dir": str(out_dir)}))
    return folder


def test_a_killed_exports_folders_and_orphaned_worker_are_removed(tmp_path) -> None:
    temp, exports = tmp_path / "tmp", tmp_path / "exports"
    temp.mkdir()
    exports.mkdir()
    staging = exports / f".phone.layerloom-export-{dead_pid()}-abc"
    staging.mkdir()
    (staging / "model.tflite").write_bytes(b"half")
    killed = export_job(temp, "layerloom-export-tflite-killed", dead_pid(), staging)
    # Its worker outlived the CLI: nobody will record or publish what it writes.
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(killed / JOB_FILE)]
    )
    live = exports / f".web.layerloom-export-{os.getpid()}-def"
    live.mkdir()
    running = export_job(temp, "layerloom-export-tfjs-running", os.getpid(), live)
    in_place = export_job(temp, "layerloom-export-serving-x", dead_pid(), exports / "serving")
    (exports / "serving").mkdir()  # a finished export's folder is never a staging folder
    stranger = temp / "layerloom-train-1-x"
    stranger.mkdir()
    try:
        removed = clean_stale_export_jobs(temp)
        assert orphan.wait(timeout=10) == -9
    finally:
        if orphan.poll() is None:
            orphan.kill()
    assert sorted(removed) == sorted([killed, in_place])
    assert sorted(p.name for p in temp.iterdir()) == sorted([running.name, stranger.name])
    assert sorted(p.name for p in exports.iterdir()) == sorted([live.name, "serving"])


def test_a_new_export_folder_is_owned_and_cleans_first(tmp_path) -> None:
    stale = export_job(tmp_path, "layerloom-export-keras-old", dead_pid(), tmp_path / "x")
    folder = new_job_folder("keras", tmp_path)
    assert folder.name.startswith("layerloom-export-keras-")
    assert (folder / OWNER_FILE).read_text().split() == [socket.gethostname(), str(os.getpid())]
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]
    assert not stale.exists()
