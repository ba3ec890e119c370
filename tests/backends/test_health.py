"""Training health, end to end on purpose-built tiny models (real Keras, a real worker on a thread,
a real project file): a ReLU node with a large negative bias is reported dead and a healthy model
reports nothing; a deep sigmoid stack reports vanishing gradients; a batch with a value that
overflows names the node where it first became non-finite; the ``health`` table is written and
``layerloom health --json`` has its documented shape; ``--health off`` writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.health import health_report
from layerloom.app.workbench.training import start_run
from layerloom.backends import records
from layerloom.backends.registry import create_backend
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import open_source
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.graph import Graph
from tests.nodes.builders import add, link

pytestmark = pytest.mark.keras

QUICK = {"batch_size": 32, "batch_event_every": 1000, "checkpoint_seconds": 0, "health_every": 2}
FIGURE_KEYS = {
    "step", "grad_norm", "weight_norm", "update_ratio", "activation_mean", "activation_std",
    "dead_fraction", "saturated_fraction",
}  # fmt: skip


def regression_data(path: Path, count: int = 256, width: int = 4) -> Path:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(count, width)).astype(np.float32)
    y = (x @ np.linspace(-1.0, 1.0, width) + 0.1 * rng.normal(size=count)).astype(np.float32)
    np.savez(path, x=x, y=y[:, None])
    return path


def chain(registry, *layers: tuple[str, str, dict], width: int = 4) -> Graph:
    graph = Graph()
    ids = [add(graph, registry, "keras.Input", "features", shape=(width,))]
    for type_name, name, params in layers:
        ids.append(add(graph, registry, type_name, name, **params))
        link(graph, ids[-2], ids[-1])
    return graph


def make_project(tmp_path: Path, name: str, graph: Graph, data: Path) -> Path:
    path = tmp_path / f"{name}.loom"
    opened = create_project(path)
    opened.graph = graph
    opened.save("test graph")
    opened.project.set_setting("dataset", {"kind": "npz", "path": str(data), "task": "regression"})
    opened.close()
    return path


def train(path: Path, resume: int | None = None, **settings) -> tuple[str, list[dict], object]:
    with open_project(path) as opened:
        session = start_run(
            opened, {**QUICK, **settings}, resume, backend=create_backend("inprocess")
        )
        events = list(session.events(timeout=600))
        session.close()
        return session.status, events, session


MLP = (
    ("Dense", "hidden", {"units": 16, "activation": "relu"}),
    ("Dense", "value", {"units": 1}),
)


@pytest.fixture(scope="module")
def healthy(tmp_path_factory, registry, keras_session) -> Path:
    """A small ReLU regressor trained 3 epochs with health sampled every 2 steps."""
    tmp = tmp_path_factory.mktemp("healthy")
    path = make_project(tmp, "healthy", chain(registry, *MLP), regression_data(tmp / "d.npz"))
    status, events, _ = train(path, epochs=3)
    assert status == "finished"
    assert sum(e["type"] == "health" for e in events) >= 5
    return path


def test_a_healthy_model_reports_nothing_and_its_figures_are_recorded(healthy: Path) -> None:
    with open_project(healthy, readonly=True) as opened:
        report = health_report(opened)
        (run,) = records.summaries(opened.project.conn)
    assert run.settings["health"] is True  # on by default, stored with the run
    assert report.run_id == 1 and report.findings == [] and report.nonfinite is None
    assert list(report.nodes) == ["hidden", "value"]  # graph order, canvas names
    hidden = report.nodes["hidden"]
    assert [s["step"] for s in hidden] == sorted(s["step"] for s in hidden)
    latest = hidden[-1]
    assert latest["grad_norm"] > 0 and latest["weight_norm"] > 0
    assert 1e-5 < latest["update_ratio"] < 1e-1
    assert 0.0 <= latest["dead_fraction"] < 0.5 and latest["saturated_fraction"] is None
    assert report.nodes["value"][-1]["dead_fraction"] is None  # linear: not ReLU-like


def test_health_json_has_the_documented_shape(healthy: Path, capsys) -> None:
    before = healthy.read_bytes()
    assert main(["health", str(healthy), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"nodes", "findings"} and out["findings"] == []
    assert list(out["nodes"]) == ["hidden", "value"]
    assert all(set(s) == FIGURE_KEYS for samples in out["nodes"].values() for s in samples)
    assert out["nodes"]["value"][0]["update_ratio"] is None  # nothing to compare the first with
    assert main(["health", str(healthy)]) == 0
    text = capsys.readouterr().out
    assert "no findings" in text and "hidden" in text
    assert main(["health", str(healthy), "7"]) == 1
    assert "has no run 7" in capsys.readouterr().err
    assert healthy.read_bytes() == before  # a read-only command


def test_a_relu_node_with_a_large_negative_bias_is_reported_dead(
    healthy: Path, tmp_path: Path
) -> None:
    """Run 1's last checkpoint gets a bias of -100 on `hidden`; a run resumed from it has every
    unit of `hidden` dead, and says so."""
    from layerloom.nodes.keras_build import build_model

    path = tmp_path / "dead.loom"
    path.write_bytes(healthy.read_bytes())
    with open_project(path) as opened:
        conn = opened.project.conn
        stored = records.checkpoint(conn, 1, "last")
        model = build_model(build_plan(opened.graph, opened.registry, "model"))
        weights = tmp_path / "w.weights.h5"
        weights.write_bytes(stored["weights"])
        model.load_weights(weights)
        kernel, _ = model.get_layer("hidden").get_weights()
        model.get_layer("hidden").set_weights([kernel, np.full(16, -100.0, np.float32)])
        model.save_weights(weights)
        with conn:
            conn.execute(
                "UPDATE checkpoints SET weights = ? WHERE id = ?",
                [weights.read_bytes(), stored["id"]],
            )
    status, _, _ = train(path, resume=1, epochs=5)
    assert status == "finished"
    with open_project(path, readonly=True) as opened:
        report = health_report(opened)
    assert report.run_id == 2
    assert report.nodes["hidden"][-1]["dead_fraction"] == 1.0
    (dead,) = [f for f in report.findings if f.kind == "dead"]
    assert dead.node == "hidden"
    assert dead.message.startswith("hidden: 100 % of units dead since epoch 4")
    assert "LeakyReLU" in dead.message


def test_a_deep_sigmoid_stack_reports_vanishing_gradients(
    tmp_path: Path, registry, keras_session
) -> None:
    layers = [("Dense", f"sig_{i}", {"units": 16, "activation": "sigmoid"}) for i in range(12)]
    graph = chain(registry, *layers, ("Dense", "value", {"units": 1}))
    path = make_project(tmp_path, "deep", graph, regression_data(tmp_path / "d.npz"))
    status, _, _ = train(path, epochs=2)
    assert status == "finished"
    with open_project(path, readonly=True) as opened:
        report = health_report(opened)
    vanishing = [f for f in report.findings if f.kind == "vanishing"]
    assert [f.node for f in vanishing] == ["sig_0"]
    assert "of the head's (value): vanishing" in vanishing[0].message
    assert "BatchNormalization or residual connections" in vanishing[0].message


def test_an_overflowing_batch_names_the_node_where_it_first_became_non_finite(
    tmp_path: Path, registry, keras_session, capsys
) -> None:
    data = regression_data(tmp_path / "d.npz")
    graph = chain(
        registry,
        ("Dense", "hidden", {"units": 8, "activation": "relu"}),
        ("Dense", "blowup", {"units": 4, "activation": "exponential"}),
        ("Dense", "value", {"units": 1}),
    )
    path = make_project(tmp_path, "overflow", graph, data)
    with open_project(path, readonly=True) as opened:
        spec = opened.project.get_setting("dataset")
    row = int(open_source(spec).split_indices()["train"][-1])  # trained on, in some batch
    arrays = dict(np.load(data))
    arrays["x"][row] = 1e4  # finite, but exp(w · relu(1e4 · v)) is not
    np.savez(data, **arrays)
    status, events, session = train(path, epochs=2)
    assert status == "diverged"
    found = events[-1]["nonfinite"]
    assert found["node"] == "blowup" and found["where"] == "output"
    assert len(found["rows"]) == 1 and found["step"] >= 1
    assert f"first non-finite value: the output of blowup at step {found['step']}" in session.error
    with open_project(path, readonly=True) as opened:
        (run,) = records.summaries(opened.project.conn)
        assert "the output of blowup" in run.error
        assert health_report(opened).nonfinite == found
    assert main(["health", str(path)]) == 0
    assert "first non-finite value: the output of blowup" in capsys.readouterr().out


def test_health_off_writes_nothing(tmp_path: Path, registry, keras_session, capsys) -> None:
    """`layerloom train --health off` (a real worker process): no health event, no row."""
    path = make_project(tmp_path, "off", chain(registry, *MLP), regression_data(tmp_path / "d.npz"))
    assert main(["train", str(path), "--epochs", "1", "--health", "off", "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[-1]["status"] == "finished" and not any(e["type"] == "health" for e in events)
    with open_project(path, readonly=True) as opened:
        assert opened.project.conn.execute("SELECT COUNT(*) FROM health").fetchone()[0] == 0
        assert records.summaries(opened.project.conn)[0].settings["health"] is False
        with pytest.raises(LayerloomError, match="no run with health figures"):
            health_report(opened)
