"""An open project keeps a warm TensorFlow worker; closing the window leaves no process behind."""

from __future__ import annotations

import time

from layerloom.app.gui.document import Document
from layerloom.app.workbench import create_project, warm_worker
from layerloom.nodes.job_folders import process_alive


def test_opening_a_project_starts_a_warm_worker_and_closing_the_window_ends_it(
    make_window, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("LAYERLOOM_WARM_WORKER", "1")
    path = tmp_path / "gui wärm.loom"
    create_project(path, "mlp_classifier").close()
    window, prompts = make_window(Document.open(path))
    deadline = time.monotonic() + 10
    while warm_worker.waiting_worker_pid() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # started in the background, not on the GUI thread
    pid = warm_worker.waiting_worker_pid()
    assert pid is not None and process_alive(pid)

    started = time.monotonic()
    window.close()  # still importing TensorFlow: ended at once, not waited for
    assert time.monotonic() - started < 3
    assert warm_worker.waiting_worker_pid() is None
    assert not process_alive(pid)
    assert prompts.errors == []


def test_no_warm_worker_when_turned_off(make_window, tmp_path) -> None:
    path = tmp_path / "cold.loom"
    create_project(path, "mlp_classifier").close()
    window, _ = make_window(Document.open(path))  # the test suite turns warm workers off
    time.sleep(0.2)
    assert warm_worker.waiting_worker_pid() is None
    window.close()
