"""NumPy .npz sources: named arrays, several Inputs, reconstruction, one-hot targets, errors."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.nodes.datasets import DatasetError, make_pipelines, open_source
from tests.nodes.datasets.plans import dense_plan, template_plan


@pytest.fixture
def arrays(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "arrays.npz"
    np.savez(
        path,
        x=rng.integers(0, 1000, size=(40, 64)),
        y=np.arange(40) % 2,
        extra=np.zeros(3),
        side=rng.normal(size=(40, 5)),
    )
    return path


def test_token_arrays_feed_the_transformer_template(arrays, keras_session) -> None:
    source = open_source({"kind": "npz", "path": str(arrays)})
    pipes = make_pipelines(source, template_plan("transformer_encoder"), batch_size=4, seed=0)
    x, y = next(iter(pipes.train))
    assert x.shape == (4, 64) and x.dtype.name == "int32"  # the Input's dtype, not int64
    assert y.shape == (4,) and pipes.num_classes == 2
    preview = source.preview(rows=2)
    assert "x: (40, 64) int64" in preview.columns and preview.classes == {"0": 20, "1": 20}


def test_several_inputs_read_arrays_by_name(arrays, keras_session) -> None:
    plan = dense_plan(("x", [64]), ("side", [5]), units=2)
    pipes = make_pipelines(open_source({"kind": "npz", "path": str(arrays)}), plan, 8, 0)
    x, _ = next(iter(pipes.train))
    assert set(x) == {"x", "side"} and x["side"].shape == (8, 5)
    mapped = {"kind": "npz", "path": str(arrays), "x": {"tokens": "x", "more": "side"}}
    info = open_source(mapped).check(dense_plan(("tokens", [64]), ("more", [5]), units=2))
    assert info.input_names == ["tokens", "more"]


def test_reconstruction_and_one_hot_targets(tmp_path, keras_session) -> None:
    path = tmp_path / "faces.npz"
    onehot = np.eye(4)[np.arange(30) % 4]
    np.savez(path, pixels=np.random.default_rng(0).random((30, 784)), labels=onehot)
    auto = open_source({"kind": "npz", "path": str(path), "x": "pixels", "y": None})
    pipes = make_pipelines(auto, template_plan("dense_autoencoder"), batch_size=5, seed=0)
    x, y = next(iter(pipes.train))
    assert pipes.task == "reconstruction" and np.array_equal(x.numpy(), y.numpy())
    labelled = open_source({"kind": "npz", "path": str(path), "x": "pixels", "y": "labels"})
    info = labelled.check(dense_plan(("pixels", [784]), units=4))
    assert info.task == "classification" and info.num_classes == 4


@pytest.mark.parametrize(
    ("spec", "plan", "message"),
    [
        ({"x": "images"}, dense_plan(("x", [64]), units=2), "arrays.npz has no array 'images';"),
        ({"y": "labels"}, dense_plan(("x", [64]), units=2), "arrays: x, y, extra, side"),
        (
            {"y": "extra"},
            dense_plan(("x", [64]), units=2),
            "arrays.npz: array 'x' has 40 examples but 'extra' has 3",
        ),
        (
            {},
            dense_plan(("x", [32]), units=2),
            "arrays.npz: array 'x' has examples of shape (64,) but Input 'x' expects (32,)",
        ),
        ({}, dense_plan(("x", [64]), units=5), "arrays.npz has 2 classes (0, 1) but output 'out'"),
        ({}, dense_plan(("a", [64]), ("b", [5])), "arrays.npz has no array 'a'"),
    ],
)
def test_bad_arrays(arrays, spec, plan, message) -> None:
    with pytest.raises(DatasetError) as caught:
        open_source({"kind": "npz", "path": str(arrays), **spec}).check(plan)
    assert message in str(caught.value)


def test_not_an_npz_and_fingerprint(tmp_path, arrays) -> None:
    bogus = tmp_path / "bogus.npz"
    bogus.write_text("hello")
    with pytest.raises(DatasetError, match="bogus.npz is not a NumPy .npz file"):
        open_source({"kind": "npz", "path": str(bogus)}).count()
    before = open_source({"kind": "npz", "path": str(arrays)}).fingerprint()
    assert before == open_source({"kind": "npz", "path": str(arrays)}).fingerprint()
    np.savez(arrays, x=np.zeros((2, 64)), y=np.zeros(2))
    assert open_source({"kind": "npz", "path": str(arrays)}).fingerprint() != before
