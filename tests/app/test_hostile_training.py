"""Training that goes wrong (issue #15): a loss that becomes NaN stops the run as 'diverged' with
its last finite checkpoint kept and resumable; the first epoch's end is always checkpointed; a
refused `train` changes nothing in the file. Real workers, real TensorFlow, tiny models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.backends import records
from layerloom.nodes import training

LAYERLOOM = Path(sys.executable).parent / "layerloom"
# SGD at this rate blows the mlp_classifier sample up in its third epoch (seed 42): two finite
# epochs first, so there is a finite checkpoint to keep. A 1000 s interval would write nothing
# before the end without the first-epoch rule, nor the second epoch without the divergence rule.
EXPLODES = {"optimizer": "sgd", "learning_rate": 3.0, "momentum": 0.99, "checkpoint_seconds": 1000}


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LAYERLOOM), *argv], capture_output=True, text=True, timeout=240, check=False
    )


@pytest.mark.keras
def test_a_nan_loss_stops_the_run_as_diverged_keeping_the_last_finite_checkpoint(
    tmp_path,
) -> None:
    path = tmp_path / "nan.loom"
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    with open_project(path) as opened:
        training.save(opened.project, EXPLODES)
    result = cli("train", str(path), "--epochs", "8")
    assert result.returncode == 1, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("layerloom: error:")]
    assert "run 1: training diverged: the loss became nan at epoch 3, step" in line
    assert "Try a lower learning rate (it was 3; try --lr 0.3)" in line
    assert "its last finite checkpoint (epoch 2) is kept" in line and "--resume 1" in line
    assert "Traceback" not in result.stderr
    with open_project(path) as opened:
        conn = opened.project.conn
        (run,) = records.summaries(conn)
        assert run.status == "diverged" and "diverged" in run.exit_reason
        last = records.checkpoint(conn, 1, "last")
        assert last["epoch"] == 2  # epoch 1 written by the first-epoch rule, 2 from memory
    listed = cli("runs", str(path))
    assert "run 1  diverged" in listed.stdout and "lower learning rate" in listed.stdout
    # The kept checkpoint resumes: the new run starts from epoch 2's weights and optimizer
    # state (whether this wild optimizer state then survives is another matter).
    resumed = cli("train", str(path), "--resume", "1", "--epochs", "3", "--lr", "0.001", "--json")
    started = json.loads(resumed.stdout.splitlines()[0])
    assert started["type"] == "started" and started["initial_epoch"] == 2
    assert started["initial_step"] == last["step"]
    with open_project(path) as opened:
        runs = records.summaries(opened.project.conn)
        assert runs[1].resumed_from == 1 and runs[1].status in ("finished", "diverged")


@pytest.mark.keras
def test_a_worker_layerloom_kills_itself_is_not_reported_as_out_of_memory(tmp_path) -> None:
    from layerloom.app.workbench.training import start_run

    path = tmp_path / "kill.loom"
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    with open_project(path) as opened:
        session = start_run(opened, {"epochs": 500})
        for event in session.events():
            if event["type"] == "epoch":
                break
        session.kill()
        assert session.wait() == "failed"
        (run,) = records.summaries(opened.project.conn)
    assert "ended by Layerloom: it was asked to end at once" in run.error
    assert "memory" not in run.error and "memory" not in run.exit_reason
