"""Exports on the GUI's warm export worker (``export_process.EXPORT_POOL``): the same outcome and
files as a cold worker's, the GUI's export takes it when its document holds one, and nothing is
left running once the document closes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from layerloom.app.gui.document import Document
from layerloom.app.workbench import open_project, warm_worker
from layerloom.app.workbench.export_process import EXPORT_POOL, JOB_PREFIX
from layerloom.app.workbench.exporting import exports, prepare_export, start_export
from tests.gui.test_export_dialog import (  # noqa: F401 - fixtures
    WORKER_TIMEOUT_MS,
    DialogPrompts,
    needs_tensorflow,
    trained_copy,
    trained_project,
)

pytestmark = [pytest.mark.keras, needs_tensorflow]


def wait_ready(timeout: float = 180.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = EXPORT_POOL.current()
        if worker is not None and worker.ready:
            return worker.process.pid
        time.sleep(0.05)
    raise AssertionError("the warm export worker did not get ready")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_warm_export_matches_a_cold_one(trained_copy) -> None:  # noqa: F811
    outcomes = {}
    try:
        for mode in ("cold", "warm"):
            if mode == "warm":
                EXPORT_POOL.start(wait=True)
                pid = wait_ready()
            with open_project(trained_copy) as opened:
                out = trained_copy.parent / mode
                session = start_export(prepare_export(opened, "keras", out))
                try:
                    assert (session.warm is not None) == (mode == "warm")
                    if mode == "warm":
                        assert session.process.pid == pid  # no fresh process
                    outcome = session.wait()
                finally:
                    session.close()
                outcomes[mode] = (outcome.status, outcome.error, files_in(out))
                assert not session.job_dir.exists()
    finally:
        EXPORT_POOL.shutdown()
    assert outcomes["warm"] == outcomes["cold"]
    assert outcomes["warm"][0] == "passed" and "mlp.keras" in outcomes["warm"][2]


def test_the_gui_exports_on_the_documents_warm_worker(
    make_window,
    qtbot,
    trained_copy,  # noqa: F811
    monkeypatch,
) -> None:
    monkeypatch.setenv("LAYERLOOM_WARM_WORKER", "1")
    document = Document.open(trained_copy)
    try:
        pid = wait_ready()
        window, _prompts = make_window(document)
        window.act.export.trigger()
        dialog = window.export_dialog
        DialogPrompts(dialog)
        dialog.picker.buttons["keras"].click()
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert dialog.running, dialog.message.text()
        assert dialog.session.warm is not None and dialog.session.process.pid == pid
        qtbot.waitUntil(lambda: not dialog.running, timeout=WORKER_TIMEOUT_MS)
        assert dialog.outcome.status == "passed"
        assert (trained_copy.parent / "exports" / "keras" / "mlp.keras").is_file()
        pids = [pid, *(w.process.pid for w in [EXPORT_POOL.current()] if w is not None)]
        window.close()  # closes the document: it releases the warm workers
    finally:
        warm_worker.shutdown()
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in pids)
    temp = Path(os.environ.get("TMPDIR", "/tmp"))
    assert not [p for p in temp.iterdir() if p.name.startswith(f"{JOB_PREFIX}warm-")]


def test_a_warm_export_can_be_cancelled(trained_copy) -> None:  # noqa: F811
    EXPORT_POOL.start(wait=True)
    try:
        pid = wait_ready()
        with open_project(trained_copy) as opened:
            out = trained_copy.parent / "cancelled"
            session = start_export(prepare_export(opened, "keras", out))
            try:
                assert session.process.pid == pid
                session.cancel()
                outcome = session.wait()
            finally:
                session.close()
            assert outcome.status == "cancelled"
            assert session.process.process.returncode is not None and not alive(pid)
            assert not out.exists() and not session.job_dir.exists()
            assert exports(opened) == []
    finally:
        EXPORT_POOL.shutdown()
