"""Replace the head (docs/fine-tuning.md), end to end with the real components: an imported model,
everything but its classifier frozen (`edit freeze --all-but`), the classifier fitted to new
classes (`data --adapt`), a new run started from the trained weights (`train --init-from`), the
frozen weights bit-identical afterwards (BatchNormalization's moving statistics included) while
the head's moved, and a TF Lite export that passes parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.app.workbench.exporting import export
from layerloom.app.workbench.importing import import_model
from layerloom.app.workbench.training import start_run
from layerloom.backends import records
from layerloom.backends.registry import create_backend
from layerloom.nodes.compile import build_plan
from layerloom.nodes.keras_build import build_model
from layerloom.nodes.serialize import graph_from_dict

QUICK = {"epochs": 1, "batch_size": 16, "batch_event_every": 1000, "checkpoint_seconds": 0}
HEAD = "classes"


def images(path: Path, classes: int, seed: int) -> Path:
    """16x16 RGB images whose class is a brightness band: quick to learn, any class count."""
    rng = np.random.default_rng(seed)
    y = np.arange(96) % classes
    x = rng.integers(0, 40, (96, 16, 16, 3)) + (y * 200 // classes)[:, None, None, None]
    np.savez(path, x=x.astype("uint8"), y=y.astype("int64"))
    return path


def cli(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    return out


def train(path: Path, jobs: Path, **kwargs) -> int:
    settings = {**QUICK, **kwargs.pop("settings", {})}
    with open_project(path) as opened:
        backend = create_backend("inprocess", root=jobs)
        session = start_run(opened, settings, backend=backend, **kwargs)
        for _ in session.events(timeout=300):
            pass
        assert session.status == "finished", session.error
        session.close()
        return session.run_id


def weights(path: Path, run_id: int, folder: Path) -> dict[str, list[np.ndarray]]:
    """A run's last checkpoint loaded into the model of the graph it trained, per layer name:
    every variable (BatchNormalization's moving statistics too)."""
    with open_project(path, readonly=True) as opened:
        conn = opened.project.conn
        blob = records.checkpoint(conn, run_id, "last")["weights"]
        version = records.summaries(conn, run_id)[0].graph_version_id
        graph = graph_from_dict(opened.project.graph(version), opened.registry)
        model = build_model(build_plan(graph, opened.registry))
    file = folder / f"run_{run_id}.weights.h5"
    file.write_bytes(blob)
    model.load_weights(str(file))
    return {
        layer.name: [w.numpy() for w in layer.weights] for layer in model.layers if layer.weights
    }


def source_model(path: Path) -> Path:
    """The model a user brings: a small CNN with BatchNormalization and a 5-class head."""
    import keras

    inputs = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Rescaling(1 / 255, name="rescale")(inputs)
    for i, filters in enumerate((8, 16)):
        x = keras.layers.Conv2D(filters, 3, padding="same", name=f"conv_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
        x = keras.layers.ReLU(name=f"relu_{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(5, activation="softmax", name=HEAD)(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(3)
    for layer in model.layers:  # "pretrained": moving statistics that are not the defaults
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape))
    model.save(path)
    return path


@pytest.mark.keras
def test_replace_the_head_and_fine_tune(keras_session, tmp_path, capsys) -> None:
    project = tmp_path / "fine.loom"
    jobs = tmp_path / "jobs"
    report = import_model(
        source_model(tmp_path / "mine.keras"),
        project,
        backend=create_backend("inprocess", root=jobs),
    )
    assert report.run_id is not None and not report.placeholders
    imported = report.run_id  # the imported weights: the starting point

    out = cli(capsys, "edit", str(project), "freeze", "--all-but", HEAD)
    assert "already trainable: classes" in out and "frozen)" in out
    new_data = images(tmp_path / "b.npz", 3, 1)
    out = cli(capsys, "data", str(project), "--npz", str(new_data), "--adapt")
    assert "units 5 -> 3" in out  # the classifier now fits the project's classes
    out = cli(capsys, "info", str(project))
    assert "(frozen)" in out and "trainable, " in out

    tuned = train(project, jobs, init_run_id=imported)
    more = train(project, jobs, resume_run_id=tuned, settings={"epochs": 2})
    assert f"(from run {imported}'s weights)" in cli(capsys, "runs", str(project))
    before, after, later = (weights(project, r, tmp_path) for r in (imported, tuned, more))
    frozen = [name for name in before if name != HEAD]
    assert frozen == ["conv_0", "bn_0", "conv_1", "bn_1"]
    for name in frozen:  # bit-identical through both fine-tuning runs, BN statistics included
        for a, b, c in zip(before[name], after[name], later[name], strict=True):
            assert np.array_equal(a, b) and np.array_equal(b, c), name
    assert before[HEAD][0].shape[-1] == 5 and after[HEAD][0].shape[-1] == 3
    assert not np.array_equal(after[HEAD][0], later[HEAD][0])  # the head trains

    with open_project(project) as opened:
        outcome = export(opened, "tflite", tmp_path / "phone", run_id=more)
    assert outcome.status == "passed", outcome.error
    assert (tmp_path / "phone" / "model.tflite").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--init-from", "7"], "--init-from 7: fine.loom has no run 7"),
        (["--init-from", "1", "--resume", "1"], "--init-from starts a new run"),
    ],
)
def test_init_from_refusals_exit_2_and_leave_the_bytes(tmp_path, capsys, argv, message) -> None:
    project = tmp_path / "fine.loom"
    cli(capsys, "new", str(project), "--template", "mlp_classifier")
    before = project.read_bytes()
    code = main(["train", str(project), *argv])
    _, err = capsys.readouterr()
    assert code == 2 and message in err
    assert project.read_bytes() == before
