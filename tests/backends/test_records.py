"""Settings, evaluation arithmetic and event recording, all without TensorFlow or a worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.workbench import create_project
from layerloom.backends import records
from layerloom.backends.base import BackendInfo, JobState
from layerloom.backends.evaluation import (
    classification_report,
    predicted_classes,
    regression_report,
)
from layerloom.backends.local import LocalBackend
from layerloom.backends.protocol import make_event
from layerloom.nodes import training
from layerloom.nodes.compile import build_plan
from layerloom.nodes.templates import load_template

LOCAL = LocalBackend()


def test_settings_fill_defaults_and_refuse_bad_values_with_the_setting_named() -> None:
    full = training.resolve({"epochs": 3}, learning_rate=0.01, batch_size=None)
    assert full["epochs"] == 3 and full["learning_rate"] == 0.01 and full["batch_size"] == 32
    for bad, message in [
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"optimizer": "lion"}, "optimizer must be one of"),
        ({"device": "tpu"}, "device must be auto, cpu, gpu or gpu:N"),
        ({"metrics": "accuracy,bogus"}, "unknown metric 'bogus'"),
        ({"colour": "red"}, "unknown training setting 'colour'"),
        ({"reduce_lr_on_plateau": True, "schedule": "cosine"}, "needs schedule 'constant'"),
    ]:
        with pytest.raises(training.SettingsError, match=message):
            training.resolve(bad)


def test_settings_are_stored_as_the_differences_from_the_defaults(tmp_path) -> None:
    with create_project(tmp_path / "p.loom", "mlp_classifier") as opened:
        training.save(opened.project, {"epochs": 5, "optimizer": "sgd"})
        assert opened.project.get_setting("training") == {"epochs": 5, "optimizer": "sgd"}
        assert training.load(opened.project)["epochs"] == 5


@pytest.mark.parametrize(
    ("template", "task", "loss", "metrics"),
    [
        ("mlp_classifier", None, "sparse_categorical_crossentropy", ["accuracy"]),
        ("mlp_classifier", "classification", "sparse_categorical_crossentropy", ["accuracy"]),
        ("dense_autoencoder", "reconstruction", "mean_squared_error", ["mae"]),
        ("dense_autoencoder", None, "mean_squared_error", ["mae"]),
    ],
)
def test_auto_loss_and_metrics_follow_the_task_and_output(
    registry, template, task, loss, metrics
) -> None:
    plan = build_plan(load_template(template, registry), registry)
    settings = training.resolve()
    assert training.resolve_loss(settings, plan, task) == loss
    assert training.resolve_metrics(settings, loss) == metrics
    assert training.resolve_loss(training.resolve({"loss": "huber"}), plan, task) == "huber"


def test_classification_report_counts_confusions_and_per_class_scores() -> None:
    report = classification_report(
        np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 2]), ["a", "b", "c"]
    )
    assert report["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [0, 0, 1]]
    assert report["accuracy"] == pytest.approx(0.8)
    b = report["per_class"][1]
    assert b["precision"] == pytest.approx(2 / 3) and b["recall"] == 1.0 and b["support"] == 2
    assert predicted_classes(np.array([[0.1, 0.9], [0.8, 0.2]])).tolist() == [1, 0]
    assert predicted_classes(np.array([[0.7], [0.2]])).tolist() == [1, 0]


def test_regression_report() -> None:
    report = regression_report(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 5.0]))
    assert report["mae"] == pytest.approx(0.25)
    assert report["rmse"] == pytest.approx(0.5)
    assert report["r2"] == pytest.approx(1 - 1 / 5)
    assert report["pairs"][-1] == [4.0, 5.0]


def _events(tmp_path) -> list[dict]:
    stem = tmp_path / "ckpt"
    stem.with_name("ckpt.weights.h5").write_bytes(b"W")
    stem.with_name("ckpt.optimizer.npz").write_bytes(b"O")
    batch = {"epoch": 1, "global_step": 2, "samples_per_second": 100.0}
    return [
        make_event(1, "started", kind="train", params=1, devices=["CPU"], steps_per_epoch=2,
                   samples={"train": 4}),
        make_event(2, "batch", step=2, metrics={"loss": 0.9}, **batch),
        make_event(3, "epoch", epoch=1, global_step=2, lr=0.1,
                   metrics={"loss": 0.8, "val_loss": 0.7, "val_accuracy": float("nan")}),
        make_event(4, "checkpoint", kind="best", path=str(stem), epoch=1, step=2),
        make_event(5, "checkpoint", kind="last", path=str(stem), epoch=1, step=2),
        make_event(6, "checkpoint", kind="last", path=str(stem), epoch=1, step=2),
        make_event(7, "finished", status="finished", metrics={}, best_epoch=1),
    ]  # fmt: skip


def test_recorder_writes_metrics_checkpoints_and_status(tmp_path) -> None:
    with create_project(tmp_path / "p.loom", "mlp_classifier") as opened:
        conn = opened.project.db.conn
        run_id = records.insert_run(conn, opened.version_id, {"epochs": 1}, "abc", LOCAL.info())
        reads = []

        def read(stem: str) -> tuple[bytes, bytes]:
            reads.append(stem)
            return b"W", b"O"

        recorder = records.Recorder(conn, run_id, read)
        for event in _events(tmp_path):
            recorder.record(event)
        rows = conn.execute("SELECT split, name, value FROM metrics ORDER BY seq, name").fetchall()
        assert ("batch", "loss", 0.9) in rows and ("validation", "val_loss", 0.7) in rows
        assert ("train", "lr", 0.1) in rows
        assert not any(name == "val_accuracy" for _, name, _ in rows)  # NaN is not stored
        kinds = conn.execute("SELECT kind, weights FROM checkpoints ORDER BY kind").fetchall()
        assert kinds == [("best", b"W"), ("last", b"W")]  # one row per kind, replaced in place
        assert len(reads) == 1  # files shared by best and last are read once
        (summary,) = records.summaries(conn)
        assert summary.status == "finished" and summary.epochs == 1
        assert summary.final_metrics["loss"] == 0.8 and summary.best_epoch == 1
        assert summary.backend == "local" and summary.exit_reason == "finished"


def test_a_checkpoint_the_job_has_since_removed_is_skipped_and_the_newer_one_kept(tmp_path):
    """A reader far behind asks for a superseded checkpoint the job pruned: it is skipped, the
    run goes on, and the newer checkpoint of that kind is what the file keeps."""
    with create_project(tmp_path / "p.loom", "mlp_classifier") as opened:
        conn = opened.project.db.conn
        run_id = records.insert_run(conn, opened.version_id, {"epochs": 2}, "abc", LOCAL.info())

        def read(stem: str) -> tuple[bytes, bytes]:
            if stem == "old":
                raise FileNotFoundError(stem)
            return b"NEW", b"O"

        recorder = records.Recorder(conn, run_id, read)
        for seq, path in ((1, "old"), (2, "new")):
            recorder.record(
                make_event(seq, "checkpoint", kind="last", path=path, epoch=seq, step=seq)
            )
        recorder.record(make_event(3, "finished", status="finished", metrics={}, best_epoch=None))
        assert recorder.skipped_checkpoints == 1
        stored = records.checkpoint(conn, run_id, "last")
        assert stored["weights"] == b"NEW" and stored["epoch"] == 2
        assert records.summaries(conn, run_id)[0].status == "finished"


def _job_folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "job.json").write_text("{}")
    return folder


def test_only_a_run_whose_job_ended_and_whose_recorder_died_becomes_interrupted(tmp_path) -> None:
    """A crashed GUI leaves its run "running". The next reader gives it up only when the run's
    backend confirms the job ended and the recording process is gone; a job still running (or one
    whose backend cannot say) is never marked."""
    from layerloom.backends.registry import create_backend
    from layerloom.nodes.project import Project

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(gone.stdout)
    running = _job_folder(tmp_path, "running-job")
    # A real process whose command line names its job folder, as a worker's does.
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time, sys; time.sleep(60)", str(running / "job.json")]
    )
    ended = _job_folder(tmp_path, "ended-job")
    (running / "pid").write_text(str(sleeper.pid))
    (ended / "pid").write_text(str(dead_pid))
    (ended / "exit").write_text("0")
    asked: list[tuple] = []

    def state_of(backend: str | None, job_id: str | None) -> JobState:
        asked.append((backend, job_id))
        if backend == "unreachable":
            return JobState.UNKNOWN
        return create_backend(backend).state(job_id)

    try:
        with Project.create(tmp_path / "p.loom") as project:
            version = project.save_graph({"format": 1, "nodes": [], "edges": []})
            conn = project.conn

            def run(job: Path | None, recorder_pid: int, backend: str = "local") -> int:
                info = BackendInfo(name=backend, host="here")
                rid = records.insert_run(conn, version, {"epochs": 1}, "f", info)
                conn.execute(
                    "UPDATE runs SET job_id = ?, recorder_pid = ? WHERE id = ?",
                    [str(job) if job else None, recorder_pid, rid],
                )
                return rid

            recorded_here = run(ended, os.getpid())  # its recorder (this process) lives
            still_training = run(running, dead_pid)
            unreachable = run(ended, dead_pid, backend="unreachable")
            finished_job = run(ended, dead_pid)
            never_started = run(None, dead_pid)

            assert LOCAL.state(str(running)) is JobState.RUNNING
            assert sorted(records.mark_interrupted(conn, state_of)) == [
                finished_job,
                never_started,
            ]
            status = dict(conn.execute("SELECT id, status FROM runs").fetchall())
            assert status[recorded_here] == status[still_training] == records.RUNNING
            assert status[unreachable] == records.RUNNING
            assert status[finished_job] == status[never_started] == records.INTERRUPTED
            (summary,) = records.summaries(conn, finished_job)
            assert "ended without a final event" in (summary.exit_reason or "")
    finally:
        sleeper.kill()
        sleeper.wait()
    # Once the sleeping "worker" is gone, its job has ended too.
    assert LOCAL.state(str(running)) is JobState.ENDED
