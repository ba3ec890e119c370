"""A checked source becomes tf.data pipelines: train (reshuffled every epoch), validation, test.

The split is part of the dataset spec (its own seed), so every run of a project validates on the
same examples; the ``seed`` here only orders the training examples. Shuffling happens before any
decoding, on cheap elements (file paths for images), so the shuffle buffer stays small in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layerloom.nodes.datasets.base import SPLITS, DataInfo, DataSource
from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan


@dataclass(frozen=True)
class Pipelines:
    """Datasets yield ``(x, y)``: x a tensor (one Input) or a dict by Input name (several)."""

    train: Any  # tf.data.Dataset
    validation: Any | None
    test: Any | None
    info: DataInfo
    batch_size: int
    drop_remainder: bool = False  # the training pipeline yields whole batches only
    evaluated: dict[str, int] | None = None  # validation/test samples used, when fewer than all

    @property
    def task(self) -> str:
        return self.info.task

    @property
    def class_names(self) -> list[str] | None:
        return self.info.class_names

    @property
    def num_classes(self) -> int | None:
        return self.info.num_classes

    @property
    def num_train(self) -> int:
        return self.info.num_train

    @property
    def num_validation(self) -> int:
        return self.info.num_validation

    @property
    def num_test(self) -> int:
        return self.info.num_test

    @property
    def input_names(self) -> list[str]:
        return self.info.input_names

    @property
    def steps_per_epoch(self) -> int:
        if self.drop_remainder:
            return self.num_train // self.batch_size
        return -(-self.num_train // self.batch_size)


def make_pipelines(
    source: DataSource,
    plan: BuildPlan,
    batch_size: int = 32,
    seed: int = 0,
    drop_remainder: bool = False,
    eval_multiple: int = 1,
    augmentation: str = "none",
) -> Pipelines:
    """Check ``source`` against ``plan`` (DatasetError if it does not fit) and build the datasets.

    For data-parallel training (JAX, ``backends.keras_jax``): ``drop_remainder`` drops the training
    pipeline's last partial batch, and validation/test use a multiple of ``eval_multiple`` of their
    samples, so every batch splits evenly over the devices. ``augmentation`` (a choice of
    ``nodes.training.AUGMENTATIONS``) randomly changes the training batches' images, and only
    those (``nodes.datasets.augment``)."""
    import tensorflow as tf

    from layerloom.nodes.datasets.augment import augmenter

    if batch_size < 1:
        raise DatasetError(f"batch size must be at least 1, not {batch_size}")
    info = source.check(plan)
    decode = source.decoder(plan, info)
    augment = augmenter(augmentation, plan, seed)
    built: dict[str, Any] = {}
    evaluated: dict[str, int] = {}
    for name, indices in source.split_indices().items():
        if name != "train" and eval_multiple > 1 and len(indices) % eval_multiple:
            indices = indices[: len(indices) - len(indices) % eval_multiple]
            evaluated[name] = len(indices)
        if len(indices) == 0:
            built[name] = None
            continue
        dataset = source.elements(indices, plan, info)
        if name == "train":
            dataset = dataset.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        if decode is not None:
            dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        whole = drop_remainder and name == "train"
        dataset = dataset.batch(batch_size, drop_remainder=whole)
        if augment is not None and name == "train":
            dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
        built[name] = dataset.prefetch(tf.data.AUTOTUNE)
    return Pipelines(
        *(built[name] for name in SPLITS),
        info=info,
        batch_size=batch_size,
        drop_remainder=drop_remainder,
        evaluated=evaluated or None,
    )
