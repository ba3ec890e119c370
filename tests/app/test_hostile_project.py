"""The project file under pressure (issue #15): read-only commands never change a file, refused
commands change nothing, damaged content is a user error (exit 1, one line), and a write waits for
another process's lock instead of giving up. Real SQLite files, real processes, through the CLI."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.nodes.project import APPLICATION_ID, canonical_json

LAYERLOOM = Path(sys.executable).parent / "layerloom"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def state(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` (the listing) with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("layerloom: error: "), err
    return lines[0]


@pytest.fixture
def project(tmp_path, capsys) -> Path:
    path = tmp_path / "p" / "model.loom"
    path.parent.mkdir()
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    capsys.readouterr()
    return path


def _delete_journal_mode(path: Path) -> None:
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    conn.close()


@pytest.mark.parametrize("locked", [False, True], ids=["delete-journal", "0444-in-0555"])
def test_reading_commands_change_neither_the_file_nor_its_folder(project, capsys, locked) -> None:
    _delete_journal_mode(project)  # `info` used to switch it to WAL, rewriting the header
    folder = project.parent
    if locked:
        project.chmod(0o444)
        folder.chmod(0o555)
    try:
        before = state(folder)
        for command in ("info", "validate", "runs"):
            code, out, err = run(capsys, command, str(project))
            assert code == 0, (command, err)
            assert state(folder) == before, command  # bytes and listing (no -wal/-shm)
        assert "(graph version 1)" in run(capsys, "info", str(project))[1]
    finally:
        folder.chmod(0o755)
        project.chmod(0o644)


def _store_graph(path: Path, text: str) -> None:
    """A graph version with the given raw text (and its correct checksum): a hand-edited file."""
    conn = sqlite3.connect(path)
    digest = hashlib.sha256(text.encode()).hexdigest()
    conn.execute(
        "INSERT INTO graph_versions (created_at, sha256, message, graph) VALUES"
        " ('2026-01-01', ?, 'edited', ?)",
        [digest, text],
    )
    conn.commit()
    conn.close()


def _graph_with_bad_port(path: Path) -> str:
    conn = sqlite3.connect(path)
    graph = json.loads(conn.execute("SELECT graph FROM graph_versions").fetchone()[0])
    conn.close()
    graph["edges"][0]["port"] = "no_such_port"
    return canonical_json(graph)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("invalid JSON", "graph version 2 is not valid JSON"),
        ("deeply nested", "graph version 2 is nested too deeply"),
        ("not an object", "graph version 2 is not a graph (a JSON list, not an object)"),
        ("bad port", "no_such_port"),
    ],
)
def test_a_damaged_graph_is_a_user_error(project, capsys, case, expected) -> None:
    text = {
        "invalid JSON": '{"nodes": [',
        "deeply nested": "[" * 100_000 + "]" * 100_000,
        "not an object": "[1, 2, 3]",
    }.get(case) or _graph_with_bad_port(project)
    _store_graph(project, text)
    before = project.read_bytes()
    for command in ("info", "validate"):
        code, _, err = run(capsys, command, str(project))
        assert code == 1, err
        assert expected in one_error_line(err)
    assert project.read_bytes() == before


def test_a_sqlite_file_without_layerloom_tables_is_refused_untouched(tmp_path, capsys) -> None:
    path = tmp_path / "hollow.loom"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.execute("CREATE TABLE notes (text)")
    conn.commit()
    conn.close()
    before = state(tmp_path)
    for command in ("info", "train", "runs"):
        code, _, err = run(capsys, command, str(path))
        assert code == 1
        assert "it is marked as a Layerloom project but lacks its tables" in one_error_line(
            err.replace("Starting TensorFlow…\n", "")
        )
    assert state(tmp_path) == before


def test_a_refused_train_changes_nothing(project, capsys) -> None:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.training import start_run
    from layerloom.nodes.errors import LayerloomError

    before = state(project.parent)  # (a project Layerloom made is in WAL mode: it stays so)
    code, _, err = run(capsys, "train", str(project), "--batch-size", "0")
    assert code == 1 and "batch_size" in one_error_line(err.replace("Starting TensorFlow…\n", ""))
    code, _, err = run(capsys, "train", str(project), "--remote", "nowhere")
    assert code == 1 and "nowhere" in err
    assert state(project.parent) == before
    # The editor's case: an edited, invalid graph in memory is refused before it is saved.
    with open_project(project) as opened:
        dense = next(n for n in opened.graph.nodes() if "Dense" in n.type_id)
        opened.graph.set_params(dense.id, {**dense.params, "units": 0})
        versions = opened.project.graph_versions()
        with pytest.raises(LayerloomError, match="units"):
            start_run(opened)
        assert opened.project.graph_versions() == versions


HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.keras
def test_a_write_lock_held_for_7_s_mid_training_is_waited_for(project) -> None:
    train = subprocess.Popen(
        [str(LAYERLOOM), "train", str(project), "--epochs", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in train.stderr:
        lines.append(line)
        if line.startswith("epoch 2/"):
            break
    holder = hold_lock(project, 7)
    rest = train.stderr.read()
    assert train.wait(timeout=240) == 0, "".join(lines) + rest
    holder.wait(timeout=30)
    waiting = [x for x in rest.splitlines() if x.startswith("waiting for")]
    assert waiting == [f"waiting for {project} (locked by another process)…"]
    with sqlite3.connect(project) as conn:
        status, reason = conn.execute("SELECT status, exit_reason FROM runs").fetchone()
        epochs = conn.execute("SELECT MAX(epoch) FROM metrics").fetchone()[0]
    assert (status, reason, epochs) == ("finished", "finished", 60)
