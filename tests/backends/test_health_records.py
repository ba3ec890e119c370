"""The ``health`` table (format 3): an older file gains it when opened, with its runs intact; the
recorder writes a health event's rows in graph order, a replayed event adds nothing, and a
diverged run's first non-finite value is kept and read back."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from layerloom.app.workbench import open_project
from layerloom.app.workbench.health import health_report
from layerloom.backends import health_records, records
from layerloom.nodes.project import Project
from layerloom.nodes.project_schema import SCHEMA_VERSION
from tests.nodes.test_project import GOLDEN_DIR, build_from_golden

V1_TRAINED = GOLDEN_DIR / "project_v1_trained.loom"


def test_a_format_2_file_gains_the_health_table(tmp_path: Path) -> None:
    path = tmp_path / "v2.loom"
    build_from_golden(GOLDEN_DIR / "project_v2.sql", path)
    with Project.open(path):  # the golden's graph is an example, not an editable graph
        pass
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 3
        columns = [r[1] for r in conn.execute("PRAGMA table_info(health)")]
    assert columns[:5] == ["run_id", "seq", "epoch", "step", "node"]
    assert columns[-2:] == ["nonfinite", "rows"]


def test_an_old_trained_file_keeps_its_runs_and_records_health(tmp_path: Path) -> None:
    path = tmp_path / "old.loom"
    shutil.copyfile(V1_TRAINED, path)
    with open_project(path) as opened:
        conn = opened.project.conn
        before = [(r.id, r.status, r.epochs) for r in records.summaries(conn)]
        assert before and health_records.runs_with_health(conn) == []
        recorder = records.Recorder(conn, 1, lambda stem: (b"", b""))
        nodes = {
            "zeta": {"grad_norm": 0.5, "weight_norm": 2.0, "dead_fraction": 0.1},
            "alpha": {"grad_norm": None, "activation_mean": float("nan")},
        }
        event = {"seq": 900, "type": "health", "epoch": 3, "global_step": 40, "nodes": nodes}
        recorder.record(event)
        recorder.record(event)  # replayed by a re-attached reader: nothing twice
        series = health_records.series(conn, 1)
        assert list(series) == ["zeta", "alpha"]  # graph order, not alphabetical
        assert series["zeta"] == [
            {"step": 40, "epoch": 3, "grad_norm": 0.5, "weight_norm": 2.0, "update_ratio": None,
             "activation_mean": None, "activation_std": None, "dead_fraction": 0.1,
             "saturated_fraction": None}
        ]  # fmt: skip
        assert series["alpha"][0]["activation_mean"] is None  # NaN is not a figure
        broken = {"node": "zeta", "where": "gradient", "step": 41, "rows": [2, 5]}
        recorder.record(
            {"seq": 901, "type": "finished", "status": "diverged", "metrics": {},
             "best_epoch": None, "reason": "training diverged", "nonfinite": broken}
        )  # fmt: skip
        assert health_records.nonfinite(conn, 1) == broken
        assert list(health_records.series(conn, 1)) == ["zeta", "alpha"]
        report = health_report(opened, 1)
        assert report.nonfinite == broken and report.to_json()["nodes"]["zeta"][0]["step"] == 40
        assert [(r.id, r.epochs) for r in records.summaries(conn)] == [(i, e) for i, _, e in before]


def test_the_automatic_schedule_keeps_sampling_within_its_budget() -> None:
    """Automatic sampling (health_every 0) spends at most AUTO_BUDGET of the training time, the
    first sample's one-time cost included; a fixed interval samples every N steps regardless."""
    from layerloom.backends.health import AUTO_BUDGET, AUTO_MIN_STEPS, Schedule

    now = [0.0]
    schedule = Schedule(0, clock=lambda: now[0])
    assert not schedule.compiled and not schedule.due(None)  # nothing affordable at t = 0
    samples, since = 0, None
    for _step in range(20_000):  # 1 ms steps; a first sample of 0.25 s, then 10 ms each
        now[0] += 0.001
        if since is not None:
            since += 1
        if schedule.due(since):
            cost = 0.25 if samples == 0 else 0.010
            now[0] += cost
            schedule.took(cost)
            samples, since = samples + 1, 0
    training = now[0] - schedule.spent
    assert schedule.spent <= AUTO_BUDGET * now[0] + 0.25 * 0.2  # overshoot: one misestimate
    assert 10 < samples < 20 * 0.02 / 0.010  # it samples, and no more than the budget allows
    assert training > 19.0
    fixed = Schedule(5)
    assert fixed.compiled and fixed.due(None) and fixed.due(5) and not fixed.due(4)
    assert AUTO_MIN_STEPS > 1
