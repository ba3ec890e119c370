"""A project file written by Layerloom's format 1 (committed as it came from that version: a
finished run, and a run left "running" by a CLI killed with SIGKILL) opens in today's format:
its run records gain where they ran as columns, and the file trains on."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from layerloom.app.workbench import open_project
from layerloom.app.workbench.training import runs, start_run
from layerloom.backends.registry import create_backend
from layerloom.nodes.project_schema import SCHEMA_VERSION

FIXTURE = Path(__file__).parents[1] / "nodes" / "golden" / "project_v1_trained.loom"


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "old.loom"
    shutil.copyfile(FIXTURE, path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    return path


def _runs(path: Path) -> list[dict]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM runs ORDER BY id")]


def test_a_format_1_file_migrates_its_runs_to_columns(old_file: Path) -> None:
    with open_project(old_file):
        pass
    with sqlite3.connect(old_file) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finished, running = _runs(old_file)
    for run in (finished, running):
        assert run["backend"] == "local"
        assert run["host"] == run["recorder_host"] == "vm"  # the machine that wrote the file
        assert isinstance(run["recorder_pid"], int)
        assert "orchestrator" not in json.loads(run["settings"])  # bookkeeping left the JSON
        assert json.loads(run["settings"])["epochs"] in (2, 30)  # the real settings stayed
    assert finished["status"] == "finished" and finished["exit_reason"] == "finished"
    assert running["status"] == "running" and running["exit_reason"] is None


@pytest.mark.keras
def test_a_migrated_run_is_given_up_only_when_nothing_runs_it_and_it_resumes(
    old_file: Path, tmp_path: Path, keras_session
) -> None:
    with open_project(old_file) as opened:
        # Format 1 never recorded a job id: no backend can find its job. Its recorder ran on a
        # host named "vm"; where that is another machine, it cannot be asked and counts as alive.
        opened.project.conn.execute("UPDATE runs SET recorder_host = NULL WHERE id = 2")
        found = {run.id: run for run in runs(opened)}
        assert found[2].status == "interrupted"
        assert found[1].status == "finished" and found[1].epochs == 2
        session = start_run(
            opened, {"epochs": 3}, resume_run_id=1, backend=create_backend("inprocess")
        )
        assert session.wait() == "finished", session.error
        session.close()
        resumed = runs(opened)[-1]
        assert resumed.resumed_from == 1 and resumed.backend == "inprocess"
        assert resumed.epochs == 3
