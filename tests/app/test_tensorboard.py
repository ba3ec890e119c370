"""``layerloom tensorboard``: the event files hold the project's metrics and the model's graph.

A real run trains in a real worker; the logs are written by another; they are read back with
TensorFlow's own event reader (``tf.compat.v1.train.summary_iterator``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.tensorboard import write_logs
from layerloom.app.workbench.training import start_run
from layerloom.backends import run_queries

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("tb") / "tensörboard.loom"
    create_project(path, "mlp_classifier").close()
    with open_project(path) as opened:
        session = start_run(opened, {"epochs": 2, "batch_size": 32})
        try:
            assert session.wait() == "finished"
        finally:
            session.close()
    return path


def read_events(folder: Path) -> tuple[dict, list, list]:
    """(scalars {(tag, step): value}, graph_defs, texts) of every event file in ``folder``."""
    import tensorflow as tf
    from tensorflow.core.framework import graph_pb2

    scalars, graphs, texts = {}, [], []
    for file in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(file)):
            if event.graph_def:
                graph = graph_pb2.GraphDef()
                graph.ParseFromString(event.graph_def)
                graphs.append(graph)
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                array = tf.make_ndarray(value.tensor)
                if plugin == "scalars":
                    scalars[(value.tag, event.step)] = float(array)
                elif plugin == "text":
                    texts.append((value.tag, array.item().decode("utf-8")))
    return scalars, graphs, texts


def test_the_logs_hold_the_runs_metrics_and_graph(trained, tmp_path, keras_session) -> None:
    out = tmp_path / "lögs"
    before = hashlib.sha256(trained.read_bytes()).digest()
    with open_project(trained, readonly=True) as opened:
        logs = write_logs(opened, out)
        expected = run_queries.epoch_scalars(opened.project.conn, 1)
    assert hashlib.sha256(trained.read_bytes()).digest() == before
    assert [(r.run_id, r.folder.name, r.model) for r in logs.runs] == [(1, "run-1", "graph")]
    assert sorted(p.name for p in out.iterdir()) == ["run-1"]  # no staging folder left

    train, graphs, texts = read_events(out / "run-1" / "train")
    validation, _, _ = read_events(out / "run-1" / "validation")
    want_train = {
        ("epoch_learning_rate" if r["name"] == "lr" else f"epoch_{r['name']}", r["epoch"]): r[
            "value"
        ]
        for r in expected
        if r["split"] == "train"
    }
    want_validation = {
        (f"epoch_{r['name'].removeprefix('val_')}", r["epoch"]): r["value"]
        for r in expected
        if r["split"] == "validation"
    }
    assert {tag for tag, _ in want_train} >= {"epoch_loss", "epoch_learning_rate"}
    assert {step for _, step in want_train} == {1, 2}
    assert train == pytest.approx(want_train, rel=1e-6)
    assert validation == pytest.approx(want_validation, rel=1e-6)
    assert len(train) + len(validation) == logs.runs[0].scalars

    assert len(graphs) == 1
    ops = {node.op for node in graphs[0].node}
    assert "MatMul" in ops  # the Dense layers, traced
    assert [tag for tag, _ in texts] == ["model_config"]
    assert '"layers"' in texts[0][1]


def test_a_second_export_replaces_the_runs_folder_and_refusals_change_nothing(
    trained, tmp_path, capsys, keras_session
) -> None:
    from layerloom.backends.inprocess import InProcessBackend

    out = tmp_path / "logs"
    stale = out / "run-1" / "train" / "events.out.tfevents.old"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    with open_project(trained, readonly=True) as opened:
        # In this process (TensorFlow is loaded here already): the worker's code, without the
        # worker's start-up, which the first test pays.
        write_logs(opened, out, run_id=1, backend=InProcessBackend())
    assert not stale.exists() and (out / "run-1" / "validation").is_dir()
    assert read_events(out / "run-1" / "validation")[0]

    before = trained.read_bytes()
    assert main(["tensorboard", str(trained), "--run", "9", "-o", str(out)]) != 0
    assert "has no run 9" in capsys.readouterr().err
    assert main(["tensorboard", str(trained), "-o", str(trained)]) != 0
    assert "is a file" in capsys.readouterr().err
    assert trained.read_bytes() == before
