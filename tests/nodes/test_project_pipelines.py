"""Format 4's pipeline tables: a format 3 file (with a run) upgrades to them, and pipeline runs
and their steps are written and read back through ``nodes.project_pipelines``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from layerloom.nodes import project_pipelines as store
from layerloom.nodes.project import Project
from tests.nodes.project_examples import GOLDEN_DIR
from tests.nodes.test_project import build_from_golden


def test_a_format_3_file_gains_the_pipeline_tables_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.loom"
    build_from_golden(GOLDEN_DIR / "project_v3.sql", path)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO runs (graph_version_id, status, settings, created_at)"
        " VALUES (1, 'finished', '{}', '2026-01-01T00:00:00.000+00:00')"
    )
    conn.commit()
    conn.close()
    with Project.open(path) as p:
        conn = p.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
        assert store.pipelines(conn) == []
        assert store.last_decided(conn) is None
        first = store.insert_pipeline(conn, "données.csv", "ab" * 32, 1, "cd" * 32, {"g": 1}, "m")
        store.set_run(conn, first, 1)
        store.add_step(conn, first, store.PipelineStep("check-data", "passed", "clean"))
        store.add_step(
            conn, first, store.PipelineStep("evaluate", "passed", figures={"accuracy": 0.9})
        )
        store.finish_pipeline(conn, first, store.PUSHED, "push", "pushed m/1", 1, "/srv/m/1")
        second = store.insert_pipeline(conn, "b.csv", None, 1, None, {}, "m")
        store.finish_pipeline(conn, second, store.FAILED, "train", "the host is down")
    with Project.open_readonly(path) as p:
        found = store.pipelines(p.conn)
        assert [(r.id, r.verdict) for r in found] == [(1, "pushed"), (2, "failed")]
        assert [s.step for s in found[0].steps] == ["check-data", "evaluate"]
        assert found[0].steps[1].figures == {"accuracy": 0.9}
        assert (
            found[0].run_id == 1 and found[0].version == 1 and found[0].data_path == "données.csv"
        )
        assert store.last_decided(p.conn).id == 1  # a failure is not a decision
        assert store.last_pushed(p.conn).push_path == "/srv/m/1"


def test_deleting_a_run_keeps_the_pipeline_record(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.loom") as p:
        p.save_graph({"format": 1, "nodes": [], "edges": []}, "g")
        conn = p.conn
        with conn:
            conn.execute(
                "INSERT INTO runs (graph_version_id, status, settings, created_at)"
                " VALUES (1, 'finished', '{}', 'now')"
            )
        pipeline = store.insert_pipeline(conn, "d.csv", "f", 1, "s", {}, "m")
        store.set_run(conn, pipeline, 1)
        store.add_step(conn, pipeline, store.PipelineStep("train", "passed"))
        with conn:
            conn.execute("DELETE FROM runs")
        (record,) = store.pipelines(conn)
        assert record.run_id is None and len(record.steps) == 1
        with conn:
            conn.execute("DELETE FROM pipeline_runs")
        assert conn.execute("SELECT COUNT(*) FROM pipeline_steps").fetchone()[0] == 0
