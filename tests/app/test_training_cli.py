"""Training from the command line, end to end: real workers, real TensorFlow, tiny models.

`layerloom new X --template T` then `layerloom train X` trains on the template's sample with no
other step; runs, evaluate, Ctrl-C (SIGINT) with resume, and bad data refused before training.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.app.workbench.training import runs
from layerloom.backends.protocol import parse_line

LAYERLOOM = Path(sys.executable).parent / "layerloom"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def metric(path: Path, run_id: int, epoch: int, name: str) -> float:
    with open_project(path) as opened:
        row = opened.project.db.conn.execute(
            "SELECT value FROM metrics WHERE run_id = ? AND epoch = ? AND name = ?"
            " AND split IN ('train', 'validation')",
            [run_id, epoch, name],
        ).fetchone()
    return row[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, list[dict]]:
    """One project trained for 3 epochs through `train --json` (a subprocess, like a script)."""
    path = tmp_path_factory.mktemp("train") / "mlp.loom"
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    result = subprocess.run(
        [str(LAYERLOOM), "train", str(path), "--epochs", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return path, [parse_line(line) for line in result.stdout.splitlines()]


def test_train_json_emits_numbered_events_in_order(trained) -> None:
    _, events = trained
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] == 1
    types = [e["type"] for e in events]
    assert types[0] == "started" and types[-1] == "finished"
    assert types.count("epoch") == 3 and "batch" in types
    assert types.index("batch") < types.index("epoch") < types.index("checkpoint")
    assert {e["kind"] for e in events if e["type"] == "checkpoint"} == {"best", "last"}
    assert events[-1]["status"] == "finished" and all(e["run_id"] == 1 for e in events)
    started = events[0]
    assert started["params"] == 3523 and started["steps_per_epoch"] > 0


def test_training_lowers_the_loss_and_runs_lists_the_finished_run(trained, capsys) -> None:
    path, _ = trained
    assert metric(path, 1, 3, "loss") < 0.5 * metric(path, 1, 1, "loss")
    code, out, _ = run(capsys, "runs", str(path), "--json")
    (listed,) = json.loads(out)
    assert code == 0 and listed["id"] == 1 and listed["status"] == "finished"
    assert listed["epochs"] == 3 and listed["final_metrics"]["val_accuracy"] > 0.8
    assert listed["best_epoch"] is not None and listed["duration"] > 0
    code, out, _ = run(capsys, "runs", str(path))
    assert "run 1  finished" in out and "val_loss" in out


def test_evaluate_prints_accuracy_and_a_confusion_matrix(trained, capsys) -> None:
    path, _ = trained
    code, out, _ = run(capsys, "evaluate", str(path), "--json")
    result = json.loads(out)
    assert code == 0 and result["task"] == "classification" and result["run_id"] == 1
    assert result["classes"] == ["a", "b", "c"] and result["accuracy"] > 0.8
    matrix = result["confusion_matrix"]
    assert sum(map(sum, matrix)) == result["samples"] == 300
    assert [row["class"] for row in result["per_class"]] == ["a", "b", "c"]
    rows = result["predictions"]  # one per sample, for the predictions viewer
    assert len(rows) == 300 and {"index", "true", "predicted", "confidence", "loss"} <= set(rows[0])
    for t in range(3):
        for p in range(3):
            cell = sum(1 for r in rows if (r["true"], r["predicted"]) == (t, p))
            assert cell == matrix[t][p]


def test_ctrl_c_cancels_cleanly_and_the_run_resumes_with_its_optimizer_state(tmp_path) -> None:
    path = tmp_path / "cancel.loom"
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    cli = subprocess.Popen(
        [str(LAYERLOOM), "train", str(path), "--epochs", "300", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in cli.stdout:
            if parse_line(line)["type"] == "batch":
                cli.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C does
                break
        rest = [parse_line(line) for line in cli.stdout]
        assert cli.wait(timeout=60) == 130, cli.stderr.read()
    finally:
        if cli.poll() is None:
            cli.kill()
    assert rest[-1]["type"] == "finished" and rest[-1]["status"] == "cancelled"
    assert rest[-2]["type"] == "checkpoint" and rest[-2]["kind"] == "last"
    with open_project(path) as opened:
        conn = opened.project.db.conn
        status = conn.execute("SELECT status FROM runs WHERE id = 1").fetchone()[0]
        stopped_at = conn.execute(
            "SELECT step FROM checkpoints WHERE run_id = 1 AND kind = 'last'"
        ).fetchone()[0]
    assert status == "cancelled" and stopped_at > 0

    resumed = subprocess.run(
        [str(LAYERLOOM), "train", str(path), "--resume", "1", "--epochs", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    events = [parse_line(line) for line in resumed.stdout.splitlines()]
    assert resumed.returncode == 0, resumed.stderr
    started = events[0]
    assert started["initial_step"] == stopped_at  # the optimizer's iterations were restored
    first_batch = next(e for e in events if e["type"] == "batch")
    assert first_batch["global_step"] > stopped_at
    assert events[-1]["status"] == "finished"
    with open_project(path) as opened:
        first, second = runs(opened)
    assert second.resumed_from == 1 and second.status == "finished"
    assert first.status == "cancelled"


def test_bad_data_is_refused_before_training_in_one_line(tmp_path, capsys) -> None:
    path = tmp_path / "bad.loom"
    csv = tmp_path / "five.csv"
    csv.write_text("a,b,c,d,e,label\n" + "".join(f"{i},1,2,3,4,{i % 3}\n" for i in range(30)))
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    with open_project(path) as opened:
        opened.project.set_setting("dataset", {"kind": "csv", "path": str(csv), "target": "label"})
    capsys.readouterr()
    code, out, err = run(capsys, "train", str(path))
    assert code == 1 and out == ""
    # The first line says TensorFlow is on its way (before anything loads); then the one error.
    first, *lines = err.strip().splitlines()
    assert first == "Starting TensorFlow…"
    assert len(lines) == 1 and lines[0].startswith("layerloom: error: five.csv")
    assert "Input 'features' expects" in lines[0]
    code, out, _ = run(capsys, "runs", str(path), "--json")
    assert json.loads(out) == []  # nothing was recorded
