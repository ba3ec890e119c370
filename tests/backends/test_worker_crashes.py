"""A worker that dies without reporting (segfault, SIGKILL) leaves a failed run and a sound file.

Real workers, real signals. The segfault uses the worker's test hook
``LAYERLOOM_WORKER_CRASH_AFTER_BATCHES`` (see ``backends.worker``).
"""

from __future__ import annotations

import os
import signal

import pytest

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.training import runs, start_run
from layerloom.backends.local import LocalBackend

QUICK = {"epochs": 200, "batch_size": 16, "batch_event_every": 1}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = tmp_path_factory.mktemp("crash") / "crash.loom"
    create_project(path, "mlp_classifier").close()
    return path


def test_a_segfaulting_worker_is_recorded_as_failed(project) -> None:
    env = {**os.environ, "LAYERLOOM_WORKER_CRASH_AFTER_BATCHES": "2"}
    with open_project(project) as opened:
        session = start_run(opened, QUICK, backend=LocalBackend(env=env))
        try:
            status = session.wait()
        finally:
            session.close()
        assert status == "failed"
        assert session.error == "the training process crashed (SIGSEGV)"
        assert not os.path.exists(session.handle.job_id)  # the worker's folder is cleaned up


def test_a_worker_killed_mid_epoch_is_recorded_as_failed_and_the_file_stays_sound(project) -> None:
    with open_project(project) as opened:
        versions_before = opened.project.graph_versions()
        session = start_run(opened, QUICK)
        try:
            killed = False
            for event in session.events(timeout=120):
                if event["type"] == "batch" and event["step"] >= 3 and not killed:
                    # SIGKILL from outside Layerloom, as the kernel's OOM killer would send it.
                    os.kill(session.handle.pid, signal.SIGKILL)
                    killed = True
            assert session.status == "failed"
        finally:
            session.close()
        assert "killed (SIGKILL" in (session.error or "")
    with open_project(project) as reopened:  # validates the file (quick_check) on the way in
        assert reopened.project.graph_versions() == versions_before
        found = runs(reopened)
        assert [r.status for r in found] == ["failed", "failed"]
        assert found[0].error == "the training process crashed (SIGSEGV)"
        assert all(r.finished_at for r in found)
        # Batches recorded before the kill are kept (flushed with the failure).
        count = reopened.project.db.conn.execute(
            "SELECT COUNT(*) FROM metrics WHERE run_id = ? AND split = 'batch'", [found[1].id]
        ).fetchone()[0]
        assert count >= 3
