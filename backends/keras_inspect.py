"""Inspect jobs inside the worker: every node's output for one input, as Keras computes it.

The model is the job's plan built with Keras, with the weights of the checkpoint placed in the job
folder (``resume_from``), or, without one, the initial weights a new run would start from (the
job's seed; Normalization layers are not adapted, so they pass values through). One functional
sub-model over every layer's output runs the inputs once (``training=False``: Dropout passes,
BatchNormalization uses its moving statistics), so each node's figures are Keras' own
intermediate outputs. Input nodes report the values fed.

Job options: the examples, either ``contract`` and ``inputs`` (raw files read as ``predict``
reads them, ``backends.model_inputs``) or ``arrays`` (an ``.npz`` in the job folder: one array
per Input node, by its Keras name, the batch first, as the model takes it), ``class_names`` (the head's top-k
labels), ``previews`` (a small picture per node for the canvas), ``maps`` (the full feature-map
grid of every image-like output, as PNG). The ``result`` event's ``inspection`` is
``{"samples", "nodes": [{"node", "type", "shape", statistics..., "preview"?, "map_png"?}]}``,
nodes in graph order (Inputs first, then layers in the order they run), named as on the canvas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from layerloom.backends.activation_stats import (
    MAP_CHANNELS,
    is_image_like,
    map_grid,
    node_statistics,
    png_text,
    preview,
)
from layerloom.backends.checkpoints import load_weights_only
from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan

INPUT_TYPE = "keras.Input"


def model_for(job: Job) -> tuple[Any, BuildPlan]:
    """The job's model with its weights: the checkpoint's, or the seeded initial ones."""
    from layerloom.nodes.keras_build import build_model

    keras = load_keras()
    keras.utils.set_random_seed(int(job.settings.get("seed", 0)))
    plan = BuildPlan.from_json(job.plan)
    model = build_model(plan)
    if job.resume_from:
        try:
            load_weights_only(model, job.resume_stem())
        except (ValueError, KeyError) as error:
            raise LayerloomError(
                f"the run's weights do not fit this graph ({str(error).splitlines()[0]})"
            ) from error
    return model, plan


def read_inputs(job: Job, plan: BuildPlan) -> tuple[list[str], list[np.ndarray]]:
    """The examples' names and, per plan Input in plan order, their arrays: from ``arrays`` (an
    .npz in the job folder, one array per Input name) or from raw files read through the input
    contract exactly as ``predict`` reads them (``backends.model_inputs``)."""
    if "arrays" in job.options:
        with np.load(Path(job.job_dir, job.options["arrays"]), allow_pickle=False) as data:
            missing = [i.name for i in plan.inputs if i.name not in data.files]
            if missing:
                raise LayerloomError(f"no values for the Input node(s) {', '.join(missing)}")
            arrays = [np.asarray(data[i.name]).astype(i.dtype, copy=False) for i in plan.inputs]
        count = len(arrays[0]) if arrays else 0
        names = list(job.options.get("names") or [f"example {i + 1}" for i in range(count)])
        return names, arrays
    from layerloom.backends.model_inputs import Source, read
    from layerloom.nodes.datasets.contract import InputContract

    contract = InputContract.from_json(job.options["contract"])
    found = read([Source.from_json(item) for item in job.options["inputs"]], contract)
    return found.names, [found.arrays[i.name].astype(i.dtype, copy=False) for i in plan.inputs]


def layer_outputs(model: Any, plan: BuildPlan, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Every plan layer's output for ``inputs`` in plan order, from one sub-model of the model."""
    keras = load_keras()
    if not plan.layers:
        return []
    tensors = []
    for step in plan.layers:
        output = model.get_layer(step.name).output
        # A layer with several outputs (an RNN returning its state) shows its first, the one
        # the next node reads by default.
        tensors.append(output[0] if isinstance(output, (list, tuple)) else output)
    probe = keras.Model(inputs=model.inputs, outputs=tensors)
    values = probe(list(inputs), training=False)
    values = values if isinstance(values, (list, tuple)) else [values]
    return [np.asarray(keras.ops.convert_to_numpy(value)) for value in values]


def devices_in_use() -> list[str]:
    import tensorflow as tf

    return [
        gpu.name.replace("/physical_device:", "") for gpu in tf.config.list_physical_devices("GPU")
    ] or ["CPU"]


def describe_nodes(
    plan: BuildPlan, inputs: list[np.ndarray], outputs: list[np.ndarray], options: dict[str, Any]
) -> list[dict[str, Any]]:
    class_names = options.get("class_names")
    named = [(i.name, INPUT_TYPE, array) for i, array in zip(plan.inputs, inputs, strict=True)]
    named += [
        (step.name, step.type_id, array) for step, array in zip(plan.layers, outputs, strict=True)
    ]
    nodes = []
    for name, type_id, array in named:
        record: dict[str, Any] = {
            "node": plan.display(name),
            "type": type_id,
            "shape": [int(n) for n in array.shape[1:]],
            **node_statistics(array),
        }
        example = array[0] if len(array) else array
        if options.get("previews") and array.size:
            head = name in plan.outputs and bool(class_names)
            record["preview"] = preview(example, class_names, head=head)
        if options.get("maps") and array.size and is_image_like(tuple(example.shape)):
            record["map_png"] = png_text(map_grid(np.asarray(example), MAP_CHANNELS))
        nodes.append(record)
    return nodes


def inspect(job: Job, writer: EventWriter, stop: Any = None) -> None:
    model, plan = model_for(job)
    _, inputs = read_inputs(job, plan)
    samples = int(len(inputs[0])) if inputs else 0
    writer.emit(
        "started",
        kind="inspect",
        params=int(model.count_params()),
        devices=devices_in_use(),
        steps_per_epoch=1,
        samples={"inspect": samples},
    )
    outputs = layer_outputs(model, plan, inputs)
    nodes = describe_nodes(plan, inputs, outputs, job.options)
    writer.emit("result", inspection={"samples": samples, "nodes": nodes})
    writer.emit("finished", status="finished", metrics={}, best_epoch=None, best=None)
