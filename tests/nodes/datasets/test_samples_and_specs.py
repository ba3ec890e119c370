"""Built-in samples against their templates, splits, specs and where a project keeps its dataset."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.app.workbench import create_project
from layerloom.nodes.datasets import (
    SAMPLES,
    SOURCES,
    DatasetError,
    dataset_spec_for,
    make_pipelines,
    open_source,
    sample_for_template,
    spec_for_storage,
    store_dataset_spec,
)
from layerloom.nodes.datasets.base import ratio_split
from layerloom.nodes.datasets.samples import generate
from layerloom.nodes.templates import list_templates
from tests.nodes.datasets.plans import dense_plan, template_plan

TEMPLATES = [info.name for info in list_templates()]


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_sample_fits_its_template(template) -> None:
    spec = sample_for_template(template)
    plan = template_plan(template)
    info = open_source(spec).check(plan)
    assert info.input_names == [plan.inputs[0].name]
    assert info.num_train > info.num_validation > info.num_test > 0
    assert open_source(spec).preview().count == info.num_train + info.num_validation + info.num_test


@pytest.mark.parametrize(
    ("template", "x_shape", "x_dtype", "y_shape"),
    [
        ("small_cnn", (16, 28, 28, 1), "float32", (16,)),
        ("dense_autoencoder", (16, 784), "float32", (16, 784)),
        ("transformer_encoder", (16, 64), "int32", (16,)),
        ("lstm_sequence", (16, 50, 4), "float32", (16,)),
    ],
)
def test_sample_batches(template, x_shape, x_dtype, y_shape, keras_session) -> None:
    spec = sample_for_template(template)
    pipes = make_pipelines(open_source(spec), template_plan(template), batch_size=16, seed=0)
    x, y = next(iter(pipes.train))
    assert (x.shape, x.dtype.name, y.shape) == (x_shape, x_dtype, y_shape)


def test_samples_are_deterministic_and_sized() -> None:
    assert set(SAMPLES) >= {"tabular_classes", "regression", "digits", "digits_flat"}
    assert set(SAMPLES) >= {"shapes_rgb", "sequences", "token_sequences"}
    digits, labels = generate("digits")
    assert digits.shape == (2000, 28, 28, 1) and digits.max() > 200
    assert np.bincount(labels).tolist() == [200] * 10
    generate.cache_clear()
    again, _ = generate("digits")
    assert np.array_equal(digits, again)
    tokens, _ = generate("token_sequences")
    assert tokens.max() < 1000 and tokens.dtype == np.int32
    regression = open_source({"kind": "sample", "name": "regression"})
    assert (
        regression.check(dense_plan(("x", [8]), units=1, activation="linear")).task == "regression"
    )
    fp = open_source({"kind": "sample", "name": "digits"}).fingerprint()
    assert fp == open_source({"kind": "sample", "name": "digits"}).fingerprint()
    assert fp != open_source({"kind": "sample", "name": "digits_flat"}).fingerprint()


def test_ratio_split_sizes_and_determinism() -> None:
    split = {"validation": 0.2, "test": 0.1, "seed": 42, "column": None}
    parts = ratio_split(100, split)
    assert [len(parts[k]) for k in ("train", "validation", "test")] == [70, 20, 10]
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(100))
    assert all(np.array_equal(parts[k], ratio_split(100, split)[k]) for k in parts)
    other = ratio_split(100, {**split, "seed": 1})
    assert not np.array_equal(parts["test"], other["test"])
    assert [len(v) for v in ratio_split(5, {**split, "validation": 0.01}).values()] == [3, 1, 1]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "parquet"}, "unknown dataset kind 'parquet'; kinds: csv, images, npz, sample"),
        ({"kind": "sample", "name": "mnist"}, "unknown sample 'mnist'; samples: tabular_classes"),
        ({"kind": "sample", "name": "digits", "split": {"validation": 0.6, "test": 0.5}}, "leaves"),
        ({"kind": "sample", "name": "digits", "split": {"column": "part"}}, "CSV files only"),
        ({"kind": "sample", "name": "digits", "colour": 1}, "unknown option(s) for a sample"),
    ],
)
def test_bad_specs(spec, message) -> None:
    with pytest.raises(DatasetError) as caught:
        source = open_source(spec)
        source.split_indices()
    assert message in str(caught.value)


def test_sample_must_fit_the_plan() -> None:
    digits = open_source({"kind": "sample", "name": "digits"})
    with pytest.raises(DatasetError, match=r"sample 'digits' has examples of shape \(28, 28, 1\)"):
        digits.check(template_plan("mlp_classifier"))
    with pytest.raises(DatasetError, match="feeds one Input but the model has 2"):
        digits.check(dense_plan(("a", [28, 28, 1]), ("b", [3])))


def test_project_dataset_defaults_to_template_sample_and_stores_relative_paths(tmp_path) -> None:
    assert set(SOURCES) == {"csv", "images", "npz", "sample"}
    with create_project(tmp_path / "p.loom", "small_cnn") as opened:
        assert dataset_spec_for(opened) == {"kind": "sample", "name": "digits"}
        stored = store_dataset_spec(opened, {"kind": "npz", "path": str(tmp_path / "d" / "a.npz")})
        assert stored["path"] == "d/a.npz"
        assert dataset_spec_for(opened)["path"] == str((tmp_path / "d" / "a.npz").resolve())
    outside = spec_for_storage({"kind": "npz", "path": "/elsewhere/a.npz"}, tmp_path / "p.loom")
    assert outside["path"] == "/elsewhere/a.npz"
    with create_project(tmp_path / "empty.loom") as opened:
        with pytest.raises(DatasetError, match="empty.loom has no dataset"):
            dataset_spec_for(opened)
