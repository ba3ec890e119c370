"""Image augmentation of the training pipeline (the ``augmentation`` training setting).

Each step is a Keras random preprocessing layer (Keras' own tf.data-safe ops), applied to whole
training batches after decoding, so every image of a batch gets its own random change. Only the
Inputs ``nodes.training.image_inputs`` calls images are touched; labels never are, and the
validation and test pipelines are not augmented, so their metrics stay comparable across runs.
The steps live in the pipeline, not in the graph, so no export carries them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.training import AUGMENTATIONS, augmentation_problem

ROTATION = 0.1  # a fraction of a full turn: up to 36 degrees either way
ZOOM = 0.1  # up to 10 % in or out

# step name -> the Keras layer that does it (built when a pipeline is made; Keras is loaded then).
STEPS: dict[str, Callable[[Any, int], Any]] = {
    "flip": lambda keras, seed: keras.layers.RandomFlip("horizontal", seed=seed),
    "rotate": lambda keras, seed: keras.layers.RandomRotation(
        ROTATION, fill_mode="nearest", seed=seed
    ),
    "zoom": lambda keras, seed: keras.layers.RandomZoom(ZOOM, fill_mode="nearest", seed=seed),
}


def augmenter(
    augmentation: str, plan: BuildPlan, seed: int
) -> Callable[[Any, Any], tuple[Any, Any]] | None:
    """A function to map over the batched training pipeline's ``(x, y)``; None for ``"none"``.
    DatasetError when the model has no image Input to augment."""
    if augmentation not in AUGMENTATIONS:
        raise DatasetError(
            f"unknown augmentation {augmentation!r}; choose one of {', '.join(AUGMENTATIONS)}"
        )
    steps = AUGMENTATIONS[augmentation]
    if not steps:
        return None
    problem = augmentation_problem({"augmentation": augmentation}, plan)
    if problem:
        raise DatasetError(problem)
    import tensorflow as tf

    from layerloom.nodes.keras_runtime import load_keras
    from layerloom.nodes.training import image_inputs

    keras = load_keras()
    layers = [STEPS[step](keras, seed + index) for index, step in enumerate(steps)]
    images = set(image_inputs(plan))
    single = len(plan.inputs) == 1

    def change(batch: Any) -> Any:
        out = tf.cast(batch, tf.float32)
        for layer in layers:
            out = layer(out, training=True)
        if batch.dtype.is_integer:  # keep the pipeline's element types (uint8 pixels stay uint8)
            out = tf.clip_by_value(tf.round(out), batch.dtype.min, batch.dtype.max)
        return tf.cast(out, batch.dtype)

    def apply(x: Any, y: Any) -> tuple[Any, Any]:
        if single:
            return change(x), y
        return {name: change(v) if name in images else v for name, v in x.items()}, y

    return apply
