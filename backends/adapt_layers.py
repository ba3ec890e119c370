"""Layers whose state comes from the data, not from gradients: adapted before a new run trains.

A ``keras.layers.Normalization`` node holds a mean and a variance per feature. Keras leaves them
at 0 and 1 (the identity) until ``layer.adapt`` sees data, so the worker adapts every such layer on
the training split before the first epoch, fed with the values that reach that layer: the input
features for one right after an Input, the output of the model up to it for a deeper one (computed
by a sub-model of the same layers, so layers before it count as they are before training). The
statistics are weights: they are saved in every checkpoint, so a resumed run, an evaluation and
every export carry them, and a resumed run is never adapted again.

The batches come from the training pipeline itself (same split, same decoding), read once, and the
layer's own ``adapt`` combines them batch by batch, so nothing holds the whole split in memory.
Imported by ``backends.keras_train`` after Keras has loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from layerloom.backends.protocol import EventWriter
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.keras_runtime import load_keras


def adapted_layers(model: Any) -> list[Any]:
    """The model's layers that ``adapt`` fills, in the order they run (inputs first)."""
    keras = load_keras()
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Normalization)]


def keep_statistics_float32(model: Any) -> None:
    """Under mixed precision, Normalization layers compute in float32: the variance of raw
    features overflows float16 (its largest value is 65504, the variance of values in the
    thousands is millions) and Keras' batch-wise ``adapt`` cannot mix half and float tensors.
    Called on every model a job builds, so training and evaluation compute alike."""
    keras = load_keras()
    for layer in adapted_layers(model):
        if layer.compute_dtype != "float32":
            layer.dtype_policy = keras.dtype_policies.get("float32")


def _input_index(model: Any, tensor: Any) -> int | None:
    for index, candidate in enumerate(model.inputs):
        if candidate is tensor:
            return index
    return None


def _features(model: Any, layer: Any) -> Any:
    """A function from one batch of model inputs to the values that reach ``layer``."""
    keras = load_keras()
    source = layer.input
    index = _input_index(model, source)
    if index is not None:
        name = model.inputs[index].name

        def take(x: Any) -> Any:
            return x[name] if isinstance(x, dict) else x

        return take
    if keras.backend.backend() == "jax":
        import jax

        if jax.process_count() > 1:
            # predict on a pod is a computation every process must join; the processes read
            # the whole split each here, not in step, so it would deadlock.
            raise LayerloomError(
                f"the Normalization node {layer.name!r} comes after other layers, which a pod "
                "slice cannot adapt; put it right after the Input node"
            )
    import numpy as np

    feeder = keras.Model(model.inputs, source, name=f"{layer.name}_feeder")

    def reach(x: Any) -> Any:
        # NumPy in: a jitted JAX predict step cannot take tf.data's TensorFlow tensors.
        return feeder.predict_on_batch(keras.tree.map_structure(np.asarray, x))

    return reach


def _batches(train: Any, features: Any, counted: list[int]) -> Iterator[Any]:
    import numpy as np

    for x, _ in train:
        values = np.asarray(features(x), dtype=np.float32)
        counted[0] += int(values.shape[0])
        yield values


def adapt_normalizations(model: Any, data: Any, writer: EventWriter) -> int:
    """Adapt every Normalization layer of ``model`` on ``data.train`` (``nodes.datasets.
    Pipelines``), logging one line per layer; the number of layers adapted."""
    layers = adapted_layers(model)
    for layer in layers:
        counted = [0]
        layer.adapt(_batches(data.train, _features(model, layer), counted))
        where = f" ({layer.name})" if len(layers) > 1 else ""
        writer.log(f"normalization{where}: adapted on {counted[0]:,} training examples")
    return len(layers)
