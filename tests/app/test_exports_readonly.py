"""``exports`` only reads: the project file's bytes and its folder's listing stay as they were, for
a file in DELETE journal mode and for a 0444 file in a 0555 folder (the tests run as root, so the
permission denial itself cannot be reproduced; the unchanged bytes can). ``export`` writes its
record in the file's own journal mode (issue #15 item 8). No TensorFlow: the record is written the
way ``export`` writes it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.exporters.records import insert_export


def state(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` (the listing) with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def journal_mode(path: Path) -> str:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def record(path: Path, **open_args: bool) -> None:
    with open_project(path, **open_args) as opened:
        insert_export(opened.project.conn, None, "keras", {}, "/x/out", {"passed": True}, "passed")


@pytest.fixture
def project(tmp_path, capsys) -> Path:
    """A project with one recorded export, switched to DELETE journal mode by hand."""
    path = tmp_path / "p" / "model.loom"
    path.parent.mkdir()
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    record(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    conn.close()
    capsys.readouterr()
    return path


@pytest.mark.parametrize("locked", [False, True], ids=["delete-journal", "0444-in-0555"])
def test_exports_changes_neither_the_file_nor_its_folder(project, capsys, locked) -> None:
    folder = project.parent
    if locked:
        project.chmod(0o444)
        folder.chmod(0o555)
    try:
        before = state(folder)
        for argv in (["exports", str(project)], ["exports", str(project), "--json"]):
            assert main(argv) == 0
            out = capsys.readouterr().out
            assert "keras" in out and "/x/out" in out
            assert state(folder) == before, argv  # bytes and listing: no -wal/-shm, no header
    finally:
        folder.chmod(0o755)
        project.chmod(0o644)
    assert journal_mode(project) == "delete"


def test_export_records_in_the_files_own_journal_mode(project) -> None:
    record(project, keep_journal_mode=True)  # what `layerloom export` opens the file with
    assert journal_mode(project) == "delete"
    assert sorted(p.name for p in project.parent.iterdir()) == ["model.loom"]  # no -wal/-shm
    with open_project(project, readonly=True) as opened:
        assert len(opened.project.conn.execute("SELECT id FROM exports").fetchall()) == 2
    record(project)  # any other writing command makes it a Layerloom (WAL) file again
    assert journal_mode(project) == "wal"
