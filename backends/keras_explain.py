"""Explain jobs inside the worker: why the model predicted what it did, per input example.

Two methods, chosen by what the model takes (``METHODS``):

- **Grad-CAM** (Selvaraju et al. 2017) for image models, over the last convolutional node with a
  picture-shaped output: the gradient of the class score (before the head's softmax/sigmoid,
  where the head has one) with respect to that node's maps, averaged over the picture per map,
  weights the maps; their ReLU'd sum, scaled to 0..1, is the heatmap. The class is the predicted
  one, or ``options["class"]``. The map is resized bilinearly to the input image's own size
  (the file's, before the model's resize), and laid over the image in ``overlay_png``.
- **Integrated gradients** (Sundararajan et al. 2017) for tabular models (every Input a vector
  of numbers): attributions ``(x - b) * mean of the gradients along the straight path from b
  to x`` (``IG_STEPS`` steps, trapezoid rule), so they add up to ``f(x) - f(b)`` for the
  explained score. The baseline ``b`` is the **training mean**: the mean of the training split's
  inputs as the model takes them (for a one-hot column, each category's share), i.e. "an
  average example"; without a dataset the worker falls back to zeros and says so. A one-hot
  column's attributions are summed back to the column.

Options: the examples as for ``inspect`` (``backends.keras_inspect.read_inputs``), ``contract``
(column names, class names), ``class`` (a class name or index). The ``result`` event's
``explanation`` is ``{"method", "node", "baseline", "rows": [{"input", "prediction" (the model's
answer), "score" (its probability or value), "explained" (the class explained: the predicted
one, or ``class``), "class_index" (its index), "attributions"?, "heatmap_png"?, "overlay_png"?,
"peak"?}]}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from layerloom.backends.activation_stats import png_text
from layerloom.backends.keras_inspect import devices_in_use, model_for, read_inputs
from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan

CONVOLUTIONS = frozenset(
    {"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose", "ConvLSTM2D"}
)
IG_STEPS = 64
SQUASHES = ("softmax", "sigmoid")


def first(output: Any) -> Any:
    """A model's first output (the one explained) when it has several."""
    return output[0] if isinstance(output, (list, tuple)) else output


def last_convolution(plan: BuildPlan) -> str | None:
    """The Keras name of the plan's last convolutional layer (Grad-CAM's node), or None."""
    found = [step.name for step in plan.layers if step.class_name in CONVOLUTIONS]
    return found[-1] if found else None


class _Logits:
    """While inside: the head computes its scores without its final softmax/sigmoid, the class
    score Grad-CAM's paper differentiates (a saturated probability has almost no gradient)."""

    def __init__(self, model: Any, head: str) -> None:
        self.layer = model.get_layer(head)
        self.saved = getattr(self.layer, "activation", None)

    def __enter__(self) -> None:
        keras = load_keras()
        name = getattr(self.saved, "__name__", "")
        if name in SQUASHES:
            self.layer.activation = keras.activations.linear

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            self.layer.activation = self.saved


def class_scores(outputs: np.ndarray, wanted: int | None) -> np.ndarray:
    """The explained class per example: ``wanted``, or the predicted one (one sigmoid unit:
    1 when above 0.5)."""
    if wanted is not None:
        return np.full(len(outputs), wanted, dtype=np.int64)
    if outputs.shape[-1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return np.argmax(outputs, axis=-1)


def _score(tf: Any, output: Any, classes: np.ndarray) -> Any:
    """The differentiated score: the class's unit, or a single unit's value (negated for class
    0 of a binary output, so its gradient points towards that class)."""
    if output.shape[-1] == 1:
        sign = tf.constant(np.where(classes == 1, 1.0, -1.0), dtype=output.dtype)
        return output[:, 0] * sign
    return tf.gather(output, tf.constant(classes), axis=1, batch_dims=1)


def grad_cam(
    model: Any, conv_name: str, inputs: list[np.ndarray], classes: np.ndarray, head: str = ""
) -> np.ndarray:
    """Grad-CAM maps (n, h, w) at the conv node's resolution, each scaled to 0..1."""
    import tensorflow as tf

    keras = load_keras()
    probe = keras.Model(model.inputs, [model.get_layer(conv_name).output, model.outputs[0]])
    with _Logits(model, head or model.layers[-1].name), tf.GradientTape() as tape:
        maps, output = probe([tf.constant(x) for x in inputs], training=False)
        score = _score(tf, output, classes)
    grads = tape.gradient(score, maps)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cams = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1)).numpy()
    peaks = cams.reshape(len(cams), -1).max(axis=1)
    return cams / np.where(peaks > 0, peaks, 1.0)[:, None, None]


def resize_map(cam: np.ndarray, height: int, width: int) -> np.ndarray:
    import tensorflow as tf

    resized = tf.image.resize(cam[:, :, None], (height, width), method="bilinear")
    return np.clip(resized.numpy()[:, :, 0], 0.0, 1.0)


def integrated_gradients(
    model: Any,
    inputs: list[np.ndarray],
    baseline: list[np.ndarray],
    classes: np.ndarray,
    steps: int = IG_STEPS,
) -> list[np.ndarray]:
    """Per Input, attributions shaped like it (n, features), for each example's class score."""
    import tensorflow as tf

    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, dtype=np.float32)
    weights[[0, -1]] /= 2  # trapezoid rule
    found = [np.zeros_like(x, dtype=np.float32) for x in inputs]
    for row in range(len(inputs[0])):
        path = [
            tf.constant(b[None] + alphas[:, None] * (x[row] - b)[None], dtype=tf.float32)
            for x, b in zip(inputs, baseline, strict=True)
        ]
        with tf.GradientTape() as tape:
            for tensor in path:
                tape.watch(tensor)
            output = first(model(path, training=False))
            score = _score(tf, output, np.repeat(classes[row], steps + 1))
        grads = tape.gradient(score, path)
        for index, (x, b, grad) in enumerate(zip(inputs, baseline, grads, strict=True)):
            mean_grad = (weights[:, None] * grad.numpy()).sum(axis=0)
            found[index][row] = (x[row] - b) * mean_grad
    return found


# --- what the job writes ---------------------------------------------------------------------


def _colour(cam: np.ndarray) -> np.ndarray:
    """A heat colour ramp (black, red, yellow, white) for 0..1 values, as float RGB 0..255."""
    red = np.clip(cam * 3.0, 0, 1)
    green = np.clip(cam * 3.0 - 1.0, 0, 1)
    blue = np.clip(cam * 3.0 - 2.0, 0, 1)
    return np.stack([red, green, blue], axis=-1) * 255.0


def overlay(picture: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """The heatmap over the picture (uint8 RGB): the picture dimmed, the heat blended by its
    strength, so cold areas show the picture and hot ones the colour."""
    rgb = picture.astype(np.float64)
    if rgb.shape[-1] == 1:
        rgb = np.repeat(rgb, 3, axis=-1)
    rgb = rgb[:, :, :3]
    alpha = 0.65 * cam[:, :, None]
    return np.clip(rgb * (1 - alpha) + _colour(cam) * alpha, 0, 255).round().astype(np.uint8)


def _as_picture(example: np.ndarray) -> np.ndarray:
    """A model input array drawn as 0..255 (its own range stretched) when no file is behind it."""
    values = example.astype(np.float64)
    low, high = np.nanmin(values), np.nanmax(values)
    if 0 <= low and high <= 255 and high > 1:
        return values
    return (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)


def original_picture(source: dict[str, Any] | None, example: np.ndarray) -> np.ndarray:
    """The input image as the file holds it (its own size), or the model's array drawn."""
    if source is None or source.get("kind") != "image":
        return _as_picture(example)
    import tensorflow as tf

    data = Path(source["path"]).read_bytes()
    return tf.io.decode_image(data, channels=3, expand_animations=False).numpy()


def _image_sources(job: Job) -> list[dict[str, Any] | None]:
    return [item if item.get("kind") == "image" else None for item in job.options.get("inputs", [])]


def _explain_images(
    job: Job,
    model: Any,
    plan: BuildPlan,
    names: list[str],
    inputs: list[np.ndarray],
    classes: np.ndarray,
) -> dict[str, Any]:
    conv = last_convolution(plan)
    if conv is None:
        raise LayerloomError("Grad-CAM needs a convolutional node (Conv2D) in the model")
    cams = grad_cam(model, conv, inputs, classes, plan.outputs[0])
    sources = _image_sources(job)
    rows = []
    for index, name in enumerate(names):
        source = sources[index] if index < len(sources) else None
        picture = original_picture(source, inputs[0][index])
        heat = resize_map(cams[index], picture.shape[0], picture.shape[1])
        peak = np.unravel_index(int(np.argmax(heat)), heat.shape)
        rows.append(
            {
                "input": name,
                "peak": [int(peak[0]), int(peak[1])],
                "heatmap_png": png_text((heat * 255.0).round().astype(np.uint8)),
                "overlay_png": png_text(overlay(picture, heat)),
            }
        )
    return {"method": "grad-cam", "node": plan.display(conv), "rows": rows}


def training_mean(job: Job, plan: BuildPlan) -> tuple[list[np.ndarray] | None, str]:
    """The mean of the training split's inputs (per Input), or None with why not."""
    from layerloom.nodes.datasets import open_source
    from layerloom.nodes.datasets.memory import InMemorySource

    try:
        source = open_source(job.dataset, job.base_dir)
        if not isinstance(source, InMemorySource):
            return None, f"a {source.kind} dataset"
        fitted = source.fit(plan)
        train = source.split_indices()["train"]
        rows = train if len(train) else np.arange(source.count())
        return [
            fitted.inputs[i.name][rows].astype(np.float64).mean(axis=0).astype(np.float32)
            for i in plan.inputs
        ], ""
    except LayerloomError as error:
        return None, str(error)


def column_groups(job: Job, plan: BuildPlan) -> list[list[tuple[str, int]]]:
    """Per Input, its features grouped by column: (column name, width), in feature order."""
    columns = (job.options.get("contract") or {}).get("columns") or {}
    groups = []
    for item in plan.inputs:
        declared = columns.get(item.name)
        if declared:
            groups.append(
                [
                    (c["name"], len(c.get("vocabulary") or []) if c["kind"] == "categorical" else 1)
                    for c in declared
                ]
            )
        else:
            prefix = plan.display(item.name)
            groups.append([(f"{prefix}[{i}]", 1) for i in range(int(item.shape[-1]))])
    return groups


def _explain_table(
    job: Job,
    model: Any,
    plan: BuildPlan,
    names: list[str],
    inputs: list[np.ndarray],
    classes: np.ndarray,
) -> dict[str, Any]:
    mean, why_not = training_mean(job, plan)
    if mean is None:
        baseline, said = (
            [np.zeros(x.shape[1:], dtype=np.float32) for x in inputs],
            f"zeros ({why_not} has no training mean here)",
        )
    else:
        baseline, said = mean, "training mean"
    found = integrated_gradients(model, inputs, baseline, classes)
    groups = column_groups(job, plan)
    rows = []
    for index, name in enumerate(names):
        attributions: dict[str, float] = {}
        for values, columns in zip(found, groups, strict=True):
            offset = 0
            for column, width in columns:
                total = float(values[index, offset : offset + width].sum())
                attributions[column] = attributions.get(column, 0.0) + total
                offset += width
        rows.append({"input": name, "attributions": attributions})
    return {"method": "integrated-gradients", "node": None, "baseline": said, "rows": rows}


def model_kind(plan: BuildPlan) -> str:
    """'image' (a picture-shaped Input and a convolution) or 'table' (vectors of numbers)."""
    shapes = [len(item.shape) for item in plan.inputs]
    floats = all(item.dtype.startswith("float") for item in plan.inputs)
    if shapes and shapes[0] == 3 and last_convolution(plan) is not None:
        return "image"
    if shapes and all(rank == 1 for rank in shapes) and floats:
        return "table"
    raise LayerloomError(
        "explain takes image models (an image Input and a Conv2D node: Grad-CAM) or tabular"
        " models (vector Inputs of numbers: integrated gradients)"
    )


METHODS = {"image": _explain_images, "table": _explain_table}


def _wanted_class(option: Any, class_names: list[str] | None, units: int) -> int | None:
    if option is None or option == "":
        return None
    text = str(option)
    if class_names and text in class_names:
        return class_names.index(text)
    if text.lstrip("-").isdigit() and 0 <= int(text) < max(units, 2):
        return int(text)
    known = ", ".join(class_names or [str(i) for i in range(max(units, 2))])
    raise LayerloomError(f"--class {text}: not a class of this model (classes: {known})")


def explain(job: Job, writer: EventWriter, stop: Any = None) -> None:
    keras = load_keras()
    model, plan = model_for(job)
    kind = model_kind(plan)
    names, inputs = read_inputs(job, plan)
    writer.emit(
        "started",
        kind="explain",
        params=int(model.count_params()),
        devices=devices_in_use(),
        steps_per_epoch=1,
        samples={"explain": len(names)},
    )
    outputs = np.asarray(keras.ops.convert_to_numpy(first(model(list(inputs), training=False))))
    contract = job.options.get("contract") or {}
    class_names = contract.get("class_names")
    regression = contract.get("task") == "regression"
    if regression:
        # The first output unit is explained: its value, upwards (a one-unit "class 1").
        classes = np.full(len(outputs), 1 if outputs.shape[-1] == 1 else 0, dtype=np.int64)
    else:
        wanted = _wanted_class(job.options.get("class"), class_names, int(outputs.shape[-1]))
        classes = class_scores(outputs, wanted)
    found = METHODS[kind](job, model, plan, names, inputs, classes)
    predicted = class_scores(outputs, None)

    def label(index: int) -> Any:
        return class_names[index] if class_names and index < len(class_names) else int(index)

    for row, chosen, guess, output in zip(found["rows"], classes, predicted, outputs, strict=True):
        if regression:
            row.update(prediction=float(output[0]), class_index=None, score=float(output[0]))
            continue
        # prediction: what the model answered; explained: the class the map or attributions
        # are about (the same unless --class names another)
        score = float(output[0] if output.shape[-1] == 1 else output[guess])
        row.update(prediction=label(guess), score=score, class_index=int(chosen))
        row["explained"] = label(chosen)
    writer.emit("result", explanation=found)
    writer.emit("finished", status="finished", metrics={}, best_epoch=None, best=None)
