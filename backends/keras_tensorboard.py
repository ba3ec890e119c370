"""TensorBoard logs of recorded runs: the worker side of ``layerloom tensorboard`` (job kind
``tensorboard``).

The orchestrator reads each run's per-epoch metrics from the project and sends them, with the
run's build plan, in ``job.options``: ``{"logdir": DIR, "runs": [{"name": "run-3", "plan": ...,
"scalars": [{"epoch", "split", "name", "value"}, ...]}]}``. For each run this writes, laid out as
``keras.callbacks.TensorBoard`` does so the curves overlay the same way:

- ``DIR/run-N/train``: ``epoch_<metric>`` per epoch (``lr`` as ``epoch_learning_rate``), the
  model's graph, and its Keras config as a text summary (``model_config``);
- ``DIR/run-N/validation``: ``epoch_<metric>`` per epoch (``val_loss`` as ``epoch_loss``).

The step is the project's 1-based epoch number. The graph is the model's forward pass traced as a
``tf.function`` (the layers and how they connect; the optimizer's update ops are left out); under
the JAX backend there is no TensorFlow graph to trace, and only the config text is written.

TensorBoard itself (the ``tensorboard`` package) is not needed: scalars and text are written with
``tf.summary.write`` and the plugin metadata TensorBoard's own ``scalar``/``text`` ops attach.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan

# The metric names keras.callbacks.TensorBoard gives the same values.
RENAMED = {"lr": "learning_rate", "learning_rate": "learning_rate"}
SPLIT_FOLDERS = {"train": "train", "validation": "validation"}


def tag_for(split: str, name: str) -> str:
    """``epoch_loss`` for train ``loss`` and validation ``val_loss`` alike (their folders differ)."""
    if split == "validation" and name.startswith("val_"):
        name = name[len("val_") :]
    return "epoch_" + RENAMED.get(name, name)


def _metadata(tf: Any, plugin: str) -> Any:
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin
    if plugin == "scalars":
        metadata.data_class = summary_pb2.DATA_CLASS_SCALAR
    else:
        metadata.data_class = summary_pb2.DATA_CLASS_TENSOR
    return metadata


class Writers:
    """One event file per split folder of a run (made when first written to)."""

    def __init__(self, tf: Any, folder: Path) -> None:
        self.tf, self.folder = tf, folder
        self._open: dict[str, Any] = {}

    def __getitem__(self, split: str) -> Any:
        if split not in self._open:
            self._open[split] = self.tf.summary.create_file_writer(str(self.folder / split))
        return self._open[split]

    def close(self) -> None:
        for writer in self._open.values():
            writer.close()


def write_scalars(tf: Any, writers: Writers, scalars: list[dict[str, Any]]) -> int:
    """Every per-epoch value, in its split's folder; how many were written."""
    metadata = _metadata(tf, "scalars")
    count = 0
    for row in scalars:
        split = SPLIT_FOLDERS.get(row["split"])
        if split is None or row["value"] is None:
            continue
        with writers[split].as_default():
            tf.summary.write(
                tag_for(row["split"], row["name"]),
                tf.constant(float(row["value"]), dtype=tf.float32),
                step=int(row["epoch"]),
                metadata=metadata,
            )
        count += 1
    return count


def write_model(tf: Any, keras: Any, writers: Writers, plan: BuildPlan) -> str:
    """The model's config as text and, under TensorFlow, its graph; 'graph' or 'config'."""
    from layerloom.nodes.keras_build import build_model

    model = build_model(plan)
    writer = writers["train"]
    config = json.dumps(model.get_config(), indent=1, default=str)
    with writer.as_default():
        tf.summary.write(
            "model_config",
            tf.constant(f"```\n{config}\n```"),  # TensorBoard's text tab renders markdown
            step=0,
            metadata=_metadata(tf, "text"),
        )
    written = "config"
    if keras.backend.backend() == "tensorflow":
        specs = [tf.TensorSpec(t.shape, t.dtype) for t in model.inputs]

        @tf.function
        def forward(*inputs: Any) -> Any:
            return model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)

        graph = forward.get_concrete_function(*specs).graph
        with writer.as_default():
            tf.summary.graph(graph)
        written = "graph"
    return written


def write_logs(job: Job, writer: EventWriter, stop: Any = None) -> None:
    keras = load_keras()
    import tensorflow as tf

    logdir = Path(job.options["logdir"])
    runs = job.options["runs"]
    writer.emit(
        "started",
        kind="tensorboard",
        params=0,
        devices=["cpu"],
        steps_per_epoch=len(runs),
        samples={},
    )
    written = []
    for run in runs:
        writers = Writers(tf, logdir / run["name"])
        try:
            scalars = write_scalars(tf, writers, run["scalars"])
            model = write_model(tf, keras, writers, BuildPlan.from_json(run["plan"]))
        finally:
            writers.close()
        written.append({"name": run["name"], "scalars": scalars, "model": model})
        writer.emit("log", level="info", message=f"{run['name']}: {scalars} scalars, {model}")
    writer.emit("result", tensorboard={"runs": written})
    writer.emit("finished", status="finished", metrics={}, best_epoch=None, best=None)
