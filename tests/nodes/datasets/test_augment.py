"""The ``augmentation`` training setting: random image changes in the training pipeline only."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.nodes.datasets import DatasetError, make_pipelines, open_source, sample_for_template
from layerloom.nodes.training import AUGMENTATIONS, augmentation_problem, image_inputs
from tests.nodes.datasets.plans import template_plan


def batches(dataset, count: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(x), np.asarray(y)) for x, y in dataset.take(count)]


@pytest.mark.keras
@pytest.mark.parametrize("augmentation", [a for a in AUGMENTATIONS if a != "none"])
def test_augmentation_changes_training_images_only(keras_session, augmentation) -> None:
    plan = template_plan("residual_cnn")  # 32x32 colour images
    source = open_source(sample_for_template("residual_cnn"))
    plain = make_pipelines(source, plan, batch_size=16, seed=3)
    changed = make_pipelines(source, plan, batch_size=16, seed=3, augmentation=augmentation)
    for (x0, y0), (x1, y1) in zip(batches(plain.train), batches(changed.train), strict=True):
        assert x1.shape == x0.shape and x1.dtype == x0.dtype
        np.testing.assert_array_equal(y1, y0)  # the same examples, in the same order
        assert not np.array_equal(x1, x0)
        # a random flip/rotation/zoom keeps the pixels' range: nothing from outside the image
        assert x1.min() >= x0.min() - 1e-3 and x1.max() <= x0.max() + 1e-3
    for (x0, y0), (x1, y1) in zip(
        batches(plain.validation), batches(changed.validation), strict=True
    ):
        np.testing.assert_array_equal(x1, x0)
        np.testing.assert_array_equal(y1, y0)


@pytest.mark.keras
def test_flip_mirrors_whole_images_of_integer_pixels(keras_session) -> None:
    """The digits sample yields uint8 pixels: they stay uint8, and a flip is an exact mirror."""
    plan = template_plan("small_cnn")
    source = open_source(sample_for_template("small_cnn"))
    plain = batches(make_pipelines(source, plan, batch_size=64, seed=1).train, 1)[0][0]
    flipped = batches(
        make_pipelines(source, plan, batch_size=64, seed=1, augmentation="flip").train, 1
    )[0][0]
    assert flipped.dtype == plain.dtype
    same = [np.array_equal(a, b) for a, b in zip(plain, flipped, strict=True)]
    mirrored = [np.array_equal(a[:, ::-1], b) for a, b in zip(plain, flipped, strict=True)]
    assert all(s or m for s, m in zip(same, mirrored, strict=True))
    assert 10 < sum(mirrored) < 54  # about half of them, each one on its own


@pytest.mark.keras
def test_non_image_models_refuse_augmentation_by_name(keras_session) -> None:
    plan = template_plan("mlp_classifier")
    assert image_inputs(plan) == [] and image_inputs(template_plan("small_cnn")) == ["image"]
    problem = augmentation_problem({"augmentation": "flip"}, plan)
    assert problem and "augmentation 'flip' works on image inputs" in problem
    assert "features (20,)" in problem and "augmentation=none" in problem
    assert augmentation_problem({"augmentation": "none"}, plan) is None
    source = open_source(sample_for_template("mlp_classifier"))
    with pytest.raises(DatasetError, match="works on image inputs"):
        make_pipelines(source, plan, batch_size=8, augmentation="flip")
