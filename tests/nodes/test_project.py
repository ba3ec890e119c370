"""The project store: round trips, versions, settings, Save As, bad files, migrations, goldens,
crashes.

Regenerate the golden of the CURRENT format (only when adding a new format version; old goldens are
history and stay as they are) with: ``python -m tests.nodes.test_project --write-golden``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from layerloom.nodes import project_schema as schema
from layerloom.nodes.errors import ProjectFileError
from layerloom.nodes.project import APPLICATION_ID, SCHEMA_VERSION, Project, canonical_json
from tests.nodes.project_examples import (
    EXAMPLE_CREATED_AT,
    EXAMPLE_GRAPH,
    EXAMPLE_SETTING,
    GOLDEN_DIR,
    small_graph,
)


@pytest.fixture
def project(tmp_path: Path):
    with Project.create(tmp_path / "model.loom") as p:
        yield p


# -- create / open / versions / settings --------------------------------------------------------


def test_create_sets_identity_and_pragmas_and_leaves_one_file(tmp_path: Path) -> None:
    path = tmp_path / "model.loom"
    with Project.create(path) as p:
        conn = p.db.conn
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert p.latest_graph() is None
        assert p.graph_versions() == []
    assert os.listdir(tmp_path) == ["model.loom"]  # no temp file, WAL checkpointed on close


def test_round_trip_through_close_and_open(tmp_path: Path) -> None:
    path = tmp_path / "model.loom"
    with Project.create(path) as p:
        vid = p.save_graph(EXAMPLE_GRAPH, "first")
    with Project.open(path) as p:
        assert p.latest_graph() == (vid, EXAMPLE_GRAPH)
        assert p.graph(vid) == EXAMPLE_GRAPH
        [version] = p.graph_versions()
        assert version.id == vid and version.message == "first"
        assert len(version.sha256) == 64


def test_identical_save_adds_no_version_and_a_change_does(project: Project) -> None:
    first = project.save_graph({"a": 1, "b": [1, 2]}, "one")
    # Same content, different key order: canonical JSON makes it the same version.
    assert project.save_graph({"b": [1, 2], "a": 1}, "again") == first
    second = project.save_graph({"a": 2, "b": [1, 2]})
    assert second != first
    assert [v.id for v in project.graph_versions()] == [first, second]


def test_dedup_compares_with_the_latest_version_only(project: Project) -> None:
    a1 = project.save_graph(small_graph(1))
    b = project.save_graph(small_graph(2))
    a2 = project.save_graph(small_graph(1))  # going back is a new version, not a jump to a1
    assert a1 < b < a2
    assert project.latest_graph() == (a2, small_graph(1))


def test_versions_are_listed_oldest_first(project: Project) -> None:
    ids = [project.save_graph(small_graph(n), f"v{n}") for n in range(1, 6)]
    versions = project.graph_versions()
    assert [v.id for v in versions] == ids
    assert [v.message for v in versions] == ["v1", "v2", "v3", "v4", "v5"]
    assert [v.created_at for v in versions] == sorted(v.created_at for v in versions)
    assert project.graph(ids[2]) == small_graph(3)


def test_missing_or_damaged_version_is_a_project_error(project: Project) -> None:
    vid = project.save_graph(small_graph(1))
    with pytest.raises(ProjectFileError, match="has no graph version 99"):
        project.graph(99)
    with project.db.conn:
        project.db.execute("UPDATE graph_versions SET graph = '{}' WHERE id = ?", [vid])
    with pytest.raises(ProjectFileError, match="checksum"):
        project.graph(vid)


def test_settings_round_trip_as_json(tmp_path: Path) -> None:
    path = tmp_path / "model.loom"
    values = {"training": {"epochs": 3, "lr": 0.001}, "name": "ünïcode", "flag": True, "n": None}
    with Project.create(path) as p:
        assert p.get_setting("training") is None
        assert p.get_setting("training", {"epochs": 1}) == {"epochs": 1}
        for key, value in values.items():
            p.set_setting(key, value)
        p.set_setting("flag", False)  # overwrite
    with Project.open(path) as p:
        assert {k: p.get_setting(k, "absent") for k in values} == {**values, "flag": False}
        # Plain SQL-readable JSON text, not pickles.
        raw = p.db.execute("SELECT value FROM settings WHERE key = 'training'").fetchone()[0]
        assert json.loads(raw) == values["training"]


def test_tables_are_plain_sql(project: Project) -> None:
    vid = project.save_graph(EXAMPLE_GRAPH)
    db = project.db
    with db.conn:
        runs = db["runs"].insert({"graph_version_id": vid, "status": "done", "created_at": "t"})
        run = runs.last_pk  # last_pk lives on the Table object that did the insert
        db["metrics"].insert({"run_id": run, "seq": 1, "epoch": 0, "name": "loss", "value": 0.5})
        db["checkpoints"].insert(
            {"run_id": run, "kind": "best", "weights": b"\x00\x01", "created_at": "t"}
        )
    assert db.execute(
        "SELECT json_extract(graph, '$.nodes.dense.params.units') FROM graph_versions"
    ).fetchone() == (10,)
    # foreign_keys=ON: a run must point at an existing graph version.
    with pytest.raises(sqlite3.IntegrityError), db.conn:
        db.execute("INSERT INTO runs (graph_version_id, status, created_at) VALUES (999, 'x', 't')")
    # Deleting a run takes its metrics and checkpoints with it.
    with db.conn:
        db.execute("DELETE FROM runs WHERE id = ?", [run])
    assert db["metrics"].count == 0 and db["checkpoints"].count == 0


# -- create refusals, overwrite, Save As ----------------------------------------------------------


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "model.loom"
    path.write_text("precious")
    with pytest.raises(ProjectFileError, match="already exists") as info:
        Project.create(path)
    assert str(path) in str(info.value)
    assert path.read_text() == "precious"
    assert os.listdir(tmp_path) == ["model.loom"]


def test_create_overwrite_replaces_the_project_and_its_stale_wal(tmp_path: Path) -> None:
    path = tmp_path / "model.loom"
    with Project.create(path) as p:
        p.save_graph(EXAMPLE_GRAPH)
    Path(f"{path}-wal").write_bytes(b"stale wal from a crashed session")
    with Project.create(path, overwrite=True) as p:
        assert p.latest_graph() is None
    assert os.listdir(tmp_path) == ["model.loom"]


def test_create_in_missing_folder_or_on_a_folder_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError, match="does not exist"):
        Project.create(tmp_path / "nope" / "model.loom")
    with pytest.raises(ProjectFileError, match="folder"):
        Project.create(tmp_path, overwrite=True)


def test_save_as_makes_an_independent_openable_copy(tmp_path: Path) -> None:
    src, dst = tmp_path / "a.loom", tmp_path / "b.loom"
    with Project.create(src) as p:
        vid = p.save_graph(EXAMPLE_GRAPH, "first")
        p.set_setting(*EXAMPLE_SETTING)
        with p.save_as(dst) as copy:
            assert copy.path == dst
            assert copy.latest_graph() == (vid, EXAMPLE_GRAPH)
            assert copy.get_setting(EXAMPLE_SETTING[0]) == EXAMPLE_SETTING[1]
            copy.save_graph(small_graph(3), "only in the copy")
        # self stays open on the old file and does not see the copy's change.
        assert p.latest_graph() == (vid, EXAMPLE_GRAPH)
        p.save_graph(small_graph(4), "only in the original")
    with Project.open(dst) as copy:
        assert copy.latest_graph()[1] == small_graph(3)
        assert [v.message for v in copy.graph_versions()] == ["first", "only in the copy"]
        assert copy.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sorted(os.listdir(tmp_path)) == ["a.loom", "b.loom"]


def test_save_as_refuses_an_existing_target_and_itself(project: Project, tmp_path: Path) -> None:
    other = tmp_path / "other.loom"
    other.write_text("keep me")
    with pytest.raises(ProjectFileError, match="already exists"):
        project.save_as(other)
    assert other.read_text() == "keep me"
    with pytest.raises(ProjectFileError, match="as itself"):
        project.save_as(project.path, overwrite=True)
    project.save_graph(EXAMPLE_GRAPH)
    project.save_as(other, overwrite=True).close()
    with Project.open(other) as copy:
        assert copy.latest_graph()[1] == EXAMPLE_GRAPH


# -- migrations -----------------------------------------------------------------------------------


def _add_author_column(db) -> None:
    db["graph_versions"].add_column("author", str)


def test_open_runs_a_registered_migration_once(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "model.loom"
    with Project.create(path) as p:
        vid = p.save_graph(EXAMPLE_GRAPH)
    calls = []

    def to_next_version(db) -> None:
        calls.append(1)
        _add_author_column(db)

    future = SCHEMA_VERSION + 1
    monkeypatch.setattr(schema, "SCHEMA_VERSION", future)
    monkeypatch.setitem(schema.MIGRATIONS, SCHEMA_VERSION, to_next_version)
    with Project.open(path) as p:
        assert p.db.conn.execute("PRAGMA user_version").fetchone()[0] == future
        assert "author" in p.db["graph_versions"].columns_dict
        assert p.latest_graph() == (vid, EXAMPLE_GRAPH)
    with Project.open(path):
        pass
    assert calls == [1]


def test_a_failing_migration_leaves_the_file_at_its_old_version(
    tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "model.loom"
    with Project.create(path) as p:
        p.save_graph(EXAMPLE_GRAPH)

    def broken(db) -> None:
        _add_author_column(db)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, SCHEMA_VERSION, broken)
    with pytest.raises(
        ProjectFileError, match=f"Cannot upgrade .* to format {SCHEMA_VERSION + 1}"
    ) as info:
        Project.open(path)
    assert str(path) in str(info.value)
    monkeypatch.undo()
    with Project.open(path) as p:
        assert p.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "author" not in p.db["graph_versions"].columns_dict
        assert p.latest_graph()[1] == EXAMPLE_GRAPH


def test_a_version_0_file_is_brought_to_the_current_format(tmp_path: Path) -> None:
    path = tmp_path / "model.loom"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.close()
    with Project.open(path) as p:
        assert p.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert p.save_graph(EXAMPLE_GRAPH) == 1


# -- golden files of the format -------------------------------------------------------------------


def schema_of(conn: sqlite3.Connection) -> dict:
    """The schema as structure (not SQL text, whose quoting is sqlite-utils' cosmetic choice)."""
    out = {}
    objects = conn.execute(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
        "ORDER BY type, name"
    ).fetchall()
    for kind, name, table in objects:
        if kind == "table":
            out[f"table {name}"] = {
                # (name, type, notnull, default, pk position)
                "columns": [tuple(r[1:]) for r in conn.execute(f'PRAGMA table_info("{name}")')],
                # (table, from, to, on_update, on_delete, match)
                "foreign_keys": sorted(
                    tuple(r[2:]) for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')
                ),
            }
        elif kind == "index":
            unique = conn.execute(
                f"SELECT \"unique\" FROM pragma_index_list('{table}') WHERE name = ?", [name]
            ).fetchone()[0]
            columns = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')]
            out[f"index {name}"] = {"table": table, "unique": unique, "columns": columns}
        else:
            out[f"{kind} {name}"] = {"table": table}
    out["pragmas"] = {
        "application_id": conn.execute("PRAGMA application_id").fetchone()[0],
        "user_version": conn.execute("PRAGMA user_version").fetchone()[0],
    }
    return out


def build_from_golden(sql_path: Path, db_path: Path) -> None:
    """A database file made from a golden dump, the way an old Layerloom's file would look."""
    conn = sqlite3.connect(db_path)
    conn.executescript(sql_path.read_text(encoding="utf-8"))
    conn.close()


def test_fresh_schema_matches_the_current_golden(tmp_path: Path) -> None:
    """If this fails, the format changed: bump SCHEMA_VERSION, add a migration and a new golden."""
    golden = GOLDEN_DIR / f"project_v{SCHEMA_VERSION}.sql"
    build_from_golden(golden, tmp_path / "golden.db")
    with Project.create(tmp_path / "fresh.loom") as p:
        fresh = schema_of(p.db.conn)
    conn = sqlite3.connect(tmp_path / "golden.db")
    expected = schema_of(conn)
    conn.close()
    assert fresh == expected


@pytest.mark.parametrize("golden", sorted(GOLDEN_DIR.glob("project_v*.sql")), ids=lambda p: p.stem)
def test_every_golden_format_still_opens(tmp_path: Path, golden: Path) -> None:
    path = tmp_path / "old.loom"
    build_from_golden(golden, path)
    with Project.open(path) as p:
        assert p.latest_graph() == (1, EXAMPLE_GRAPH)
        assert p.graph_versions()[0].created_at == EXAMPLE_CREATED_AT
        assert p.graph_versions()[0].message == "example"
        assert p.get_setting(EXAMPLE_SETTING[0]) == EXAMPLE_SETTING[1]
        assert p.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert p.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert p.save_graph(small_graph(2)) == 2  # and it can be written after the upgrade


def golden_sql(tmp_dir: Path) -> str:
    """The dump of a current-format project holding EXAMPLE_GRAPH and EXAMPLE_SETTING."""
    path = tmp_dir / "golden.loom"
    with Project.create(path, overwrite=True) as p:
        p.save_graph(EXAMPLE_GRAPH, "example")
        p.set_setting(*EXAMPLE_SETTING)
        with p.db.conn:
            p.db.execute("UPDATE graph_versions SET created_at = ?", [EXAMPLE_CREATED_AT])
        dump = "\n".join(p.db.conn.iterdump())
    header = (
        f"-- Golden dump of a Layerloom project, format {SCHEMA_VERSION}. Never edit: a format\n"
        "-- change adds a new project_vN.sql; this file proves old projects keep opening.\n"
        f"PRAGMA application_id = {APPLICATION_ID};\n"
        f"PRAGMA user_version = {SCHEMA_VERSION};\n"
    )
    return header + dump + "\n"


def test_golden_row_matches_its_hash() -> None:
    from layerloom.nodes.project import _sha256

    text = (GOLDEN_DIR / f"project_v{SCHEMA_VERSION}.sql").read_text(encoding="utf-8")
    assert _sha256(canonical_json(EXAMPLE_GRAPH)) in text


if __name__ == "__main__":
    import tempfile

    if "--write-golden" not in sys.argv:
        sys.exit("usage: python -m tests.nodes.test_project --write-golden")
    with tempfile.TemporaryDirectory() as tmp:
        target = GOLDEN_DIR / f"project_v{SCHEMA_VERSION}.sql"
        GOLDEN_DIR.mkdir(exist_ok=True)
        target.write_text(golden_sql(Path(tmp)), encoding="utf-8")
        print(f"wrote {target}")
