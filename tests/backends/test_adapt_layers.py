"""Normalization nodes are adapted on the training split before a new run trains (real Keras, a
real worker on a thread): their statistics are the training split's, they are saved with the
weights, a resumed run keeps them, and features on wildly different scales train well with the
node and badly without it."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.training import runs, start_run
from layerloom.backends import records
from layerloom.backends.registry import create_backend
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import open_source
from layerloom.nodes.graph import Graph
from tests.nodes.builders import add, link

pytestmark = pytest.mark.keras

QUICK = {"batch_size": 32, "batch_event_every": 1000, "checkpoint_seconds": 0}
SCALES = np.array([0.001, 0.05, 1.0, 30.0, 700.0, 4000.0], dtype=np.float64)


def scaled_data(path: Path, count: int = 1200) -> Path:
    """Features from 0.001 to 4000 in size; the target weighs each feature by its own scale, so
    the small features matter as much as the large ones."""
    rng = np.random.default_rng(7)
    unit = rng.normal(size=(count, len(SCALES)))
    x = (unit + 2.0) * SCALES
    y = unit @ np.array([1.5, -1.0, 0.8, -0.6, 1.2, -1.3]) + 0.5 * unit[:, 0] * unit[:, 1]
    np.savez(path, x=x.astype(np.float32), y=y[:, None].astype(np.float32))
    return path


def mlp(registry, *, normalize: bool, rescale: bool = False) -> Graph:
    graph = Graph()
    chain = [add(graph, registry, "keras.Input", "features", shape=(len(SCALES),))]
    if rescale:  # a layer between the Input and the Normalization: its output is adapted on
        chain.append(add(graph, registry, "Rescaling", "rescale", scale=2.0, offset=1.0))
    if normalize:
        chain.append(add(graph, registry, "Normalization", "scale_features"))
    chain.append(add(graph, registry, "Dense", "hidden", units=32, activation="relu"))
    chain.append(add(graph, registry, "Dense", "value", units=1))
    for src, dst in zip(chain, chain[1:], strict=False):
        link(graph, src, dst)
    return graph


def make_project(tmp_path: Path, name: str, graph: Graph, data: Path, **spec) -> Path:
    path = tmp_path / f"{name}.loom"
    opened = create_project(path)
    opened.graph = graph
    opened.save("test graph")
    spec = {"kind": "npz", "path": str(data), "task": "regression", **spec}
    opened.project.set_setting("dataset", spec)
    opened.close()
    return path


def train(path: Path, backend, **settings) -> list[dict]:
    with open_project(path) as opened:
        session = start_run(opened, {**QUICK, **settings}, backend=backend)
        events = list(session.events(timeout=600))
        session.close()
        assert session.status == "finished", session.error
    return events


def normalization_state(path: Path, run_id: int, kind: str, tmp_path: Path):
    """The (mean, variance) a run's checkpoint holds for its Normalization layer."""
    from layerloom.nodes.keras_build import build_model

    with open_project(path, readonly=True) as opened:
        stored = records.checkpoint(opened.project.conn, run_id, kind)
        plan = build_plan(opened.graph, opened.registry, "model")
    weights = tmp_path / f"run{run_id}_{kind}.weights.h5"
    weights.write_bytes(stored["weights"])
    model = build_model(plan)
    model.load_weights(weights)
    layer = model.get_layer("scale_features")
    return np.asarray(layer.mean).reshape(-1), np.asarray(layer.variance).reshape(-1)


def train_split(path: Path) -> np.ndarray:
    with open_project(path, readonly=True) as opened:
        spec = opened.project.get_setting("dataset")
    source = open_source(spec)
    return np.load(spec["path"])["x"][source.split_indices()["train"]].astype(np.float64)


def test_the_statistics_are_the_training_splits_and_saved_with_the_weights(
    tmp_path: Path, registry, keras_session
) -> None:
    data = scaled_data(tmp_path / "scaled.npz")
    backend = create_backend("inprocess", root=tmp_path / "jobs")
    path = make_project(tmp_path, "adapted", mlp(registry, normalize=True), data)
    events = train(path, backend, epochs=1)
    x = train_split(path)
    logs = [e["message"] for e in events if e["type"] == "log"]
    assert f"normalization: adapted on {len(x):,} training examples" in logs
    mean, variance = normalization_state(path, 1, "last", tmp_path)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(variance, x.var(axis=0), rtol=1e-3)
    assert not np.allclose(variance, 1.0)  # not the identity Keras starts from

    # A resumed run trains on: its statistics come back with the checkpoint, not adapted again.
    with open_project(path) as opened:
        session = start_run(opened, {**QUICK, "epochs": 2}, resume_run_id=1, backend=backend)
        resumed = list(session.events(timeout=600))
        session.close()
    assert not [e for e in resumed if e["type"] == "log" and "adapted" in e["message"]]
    again, _ = normalization_state(path, 2, "last", tmp_path)
    np.testing.assert_allclose(again, mean, rtol=1e-6)


def test_a_deeper_normalization_is_adapted_on_what_reaches_it(
    tmp_path: Path, registry, keras_session
) -> None:
    data = scaled_data(tmp_path / "scaled.npz", count=300)
    backend = create_backend("inprocess", root=tmp_path / "jobs")
    graph = mlp(registry, normalize=True, rescale=True)
    path = make_project(tmp_path, "deeper", graph, data)
    train(path, backend, epochs=1)
    x = 2.0 * train_split(path) + 1.0  # what the Rescaling node hands on
    mean, variance = normalization_state(path, 1, "best", tmp_path)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(variance, x.var(axis=0), rtol=1e-3)


def test_features_on_different_scales_train_well_with_the_node_and_badly_without(
    tmp_path: Path, registry, keras_session
) -> None:
    data = scaled_data(tmp_path / "scaled.npz")
    backend = create_backend("inprocess", root=tmp_path / "jobs")
    losses = {}
    for normalize in (True, False):
        name = "with" if normalize else "without"
        path = make_project(tmp_path, name, mlp(registry, normalize=normalize), data)
        train(path, backend, epochs=12, learning_rate=3e-3)
        with open_project(path, readonly=True) as opened:
            (run,) = runs(opened)
        losses[name] = run.best_metrics["val_loss"]
    target_variance = 1.5**2 + 1 + 0.8**2 + 0.6**2 + 1.2**2 + 1.3**2  # predicting the mean
    assert losses["with"] < 0.1 * target_variance, losses
    assert losses["without"] > 5 * losses["with"], losses


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")
def test_the_jax_backend_adapts_the_same_way(tmp_path: Path, registry) -> None:
    """A worker on Keras' JAX backend, data-parallel over four CPU devices, adapts a deeper
    Normalization on its (whole-batch) training pipeline."""
    from layerloom.backends.local import LocalBackend

    data = scaled_data(tmp_path / "scaled.npz", count=400)
    graph = mlp(registry, normalize=True, rescale=True)
    # 320 training examples: ten whole batches, so drop_remainder leaves none out.
    path = make_project(tmp_path, "jax", graph, data, split={"validation": 0.2, "test": 0.0})
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_NUM_CPU_DEVICES": "4"}
    events = train(path, LocalBackend(env=env), epochs=1)
    assert [e for e in events if e["type"] == "started"][0]["keras_backend"] == "jax"
    assert "normalization: adapted on 320 training examples" in [
        e["message"] for e in events if e["type"] == "log"
    ]
    x = 2.0 * train_split(path) + 1.0
    mean, variance = normalization_state(path, 1, "last", tmp_path)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(variance, x.var(axis=0), rtol=1e-3)


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, message: str, level: str = "info") -> None:
        self.lines.append(message)


def test_under_mixed_precision_the_statistics_stay_float32(registry, keras_session) -> None:
    """float16 holds at most 65504: the variance of features in the thousands would be inf."""
    from layerloom.backends.adapt_layers import adapt_normalizations, keep_statistics_float32
    from layerloom.nodes.keras_build import build_model

    x = ((np.random.default_rng(1).normal(size=(96, len(SCALES))) + 2.0) * SCALES).astype(
        np.float32
    )
    batches = [(x[i : i + 32], np.zeros((len(x[i : i + 32]), 1))) for i in range(0, 96, 32)]
    plan = build_plan(mlp(registry, normalize=True), registry, "mixed")
    keras_session.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build_model(plan)
        keep_statistics_float32(model)
        log = _Log()
        adapt_normalizations(model, type("Data", (), {"train": batches})(), log)
        outputs = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    finally:
        keras_session.mixed_precision.set_global_policy("float32")
    layer = model.get_layer("scale_features")
    assert layer.compute_dtype == "float32"
    np.testing.assert_allclose(np.asarray(layer.variance).reshape(-1), x.var(axis=0), rtol=1e-3)
    assert log.lines == ["normalization: adapted on 96 training examples"]
    assert np.isfinite(outputs).all()
