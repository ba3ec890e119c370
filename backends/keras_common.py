"""What training and evaluation jobs share inside the worker: devices, data, the compiled model.

TensorFlow is loaded by the callers (``load_keras``) before these run; every import of it here is
inside a function so the module itself stays free to import.
"""

from __future__ import annotations

from typing import Any

from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.training import from_logits, resolve_loss, resolve_metrics


def choose_strategy(settings: dict[str, Any], writer: EventWriter) -> tuple[Any, list[str]]:
    """CPU, one GPU, or MirroredStrategy over several; the devices in words for ``started``.

    On the JAX backend: ``keras.distribution.DataParallel`` over every device (``keras_jax``)."""
    keras = load_keras()
    if keras.backend.backend() == "jax":
        from layerloom.backends.keras_jax import choose_distribution

        return choose_distribution(settings, writer)
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = settings.get("device", "auto")
    if device.startswith("gpu") and not gpus:
        raise LayerloomError(f"device {device} was asked for but TensorFlow sees no GPU here")
    if settings.get("mixed_precision"):
        if gpus:
            keras.mixed_precision.set_global_policy("mixed_float16")
        else:
            writer.log("mixed precision needs a GPU; training in float32 on the CPU", "warning")
    names = [_gpu_name(tf, gpu) for gpu in gpus] or ["CPU"]
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy(), names
    return tf.distribute.get_strategy(), names


def device_facts(devices: list[str]) -> dict[str, Any]:
    """What a run record keeps of the devices a worker trains on (``started`` event fields)."""
    keras = load_keras()
    if keras.backend.backend() == "jax":
        from layerloom.backends.keras_jax import accelerator as jax_accelerator

        accelerator = jax_accelerator()  # the platform of jax.devices(): 'cpu', 'gpu' or 'tpu'
    else:
        kinds = {name.split(":")[0].split(" ")[0].lower() for name in devices}
        accelerator = next((k for k in ("tpu", "gpu") if k in kinds), "cpu")
    return {
        "accelerator": accelerator,
        "keras_backend": keras.backend.backend(),
        "device_count": len(devices),
    }


def _gpu_name(tf: Any, gpu: Any) -> str:
    try:
        details = tf.config.experimental.get_device_details(gpu)
    except Exception:  # details are decoration; never fail a run over them
        details = {}
    label = gpu.name.replace("/physical_device:", "")
    return f"{label} ({details['device_name']})" if details.get("device_name") else label


def open_data(job: Job, plan: BuildPlan, **options: Any) -> Any:
    """The job's dataset as tf.data pipelines (``nodes.datasets.Pipelines``); ``options`` go to
    ``make_pipelines`` (``drop_remainder``, ``eval_multiple``)."""
    from layerloom.nodes.datasets import make_pipelines, open_source

    source = open_source(job.dataset, job.base_dir)
    # Only training is augmented: an evaluation (even of the train split) sees the data as it is.
    augmentation = job.settings.get("augmentation", "none") if job.kind == "train" else "none"
    return make_pipelines(
        source,
        plan,
        int(job.settings["batch_size"]),
        seed=int(job.settings["seed"]),
        augmentation=augmentation,
        **options,
    )


def make_optimizer(keras: Any, settings: dict[str, Any], steps_per_epoch: int) -> Any:
    rate: Any = float(settings["learning_rate"])
    if settings["schedule"] == "cosine":
        total = max(1, int(settings["epochs"]) * steps_per_epoch)
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=total)
    elif settings["schedule"] == "step":
        rate = keras.optimizers.schedules.ExponentialDecay(
            rate,
            decay_steps=max(1, int(settings["step_every"]) * steps_per_epoch),
            decay_rate=float(settings["step_factor"]),
            staircase=True,
        )
    name = settings["optimizer"]
    if name == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=float(settings["weight_decay"]))
    if name == "sgd":
        return keras.optimizers.SGD(rate, momentum=float(settings["momentum"]))
    if name == "rmsprop":
        return keras.optimizers.RMSprop(rate, momentum=float(settings["momentum"]))
    return keras.optimizers.Adam(rate)


# Metric names Keras' string lookup does not know, as metric objects that keep the short name
# (so events, records and the settings all say "rmse").
METRIC_CLASSES = {
    "rmse": "RootMeanSquaredError",
    "auc": "AUC",
    "precision": "Precision",
    "recall": "Recall",
}


def keras_metric(keras: Any, name: str) -> Any:
    if name in METRIC_CLASSES:
        return getattr(keras.metrics, METRIC_CLASSES[name])(name=name)
    return name


def build_compiled_model(job: Job, plan: BuildPlan, data: Any) -> tuple[Any, str, list[str]]:
    """The plan's model compiled with the job's settings; call inside the strategy's scope."""
    from layerloom.backends.adapt_layers import keep_statistics_float32
    from layerloom.nodes.keras_build import build_model

    keras = load_keras()
    settings = job.settings
    model = build_model(plan)
    keep_statistics_float32(model)
    loss_name = resolve_loss(settings, plan, data.task)
    metrics = resolve_metrics(settings, loss_name)
    loss: Any = loss_name
    if from_logits(plan, loss_name):
        # Classification data into an output without softmax/sigmoid: its values are logits.
        classes = {
            "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
            "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
            "binary_crossentropy": keras.losses.BinaryCrossentropy,
        }
        loss = classes[loss_name](from_logits=True)
    model.compile(
        optimizer=make_optimizer(keras, settings, data.steps_per_epoch),
        loss=loss,
        metrics=[keras_metric(keras, name) for name in metrics],
        # Under JAX training is always compiled: without jit Keras runs the step op by op, and
        # on a pod each of those ops is a computation all processes must join (two processes
        # crawled to a halt). Evaluation runs on one device and feeds tf.data tensors to predict,
        # which a jitted JAX function cannot take. The "xla" setting is TensorFlow's choice.
        jit_compile=bool(settings["xla"])
        or (keras.backend.backend() == "jax" and job.kind == "train"),
    )
    return model, loss_name, metrics
