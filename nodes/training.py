"""Training settings as data: declared with the same Param kinds as node specs, validated here.

The settings panel of the GUI and the CLI's flags are generated from ``SETTINGS``; the project keeps
the user's choices in the setting ``"training"``. Only values that differ from the defaults are
stored, and ``resolve`` fills in the rest, so older projects pick up new settings without a migration.

``resolve_loss`` and ``resolve_metrics`` turn ``"auto"`` into concrete Keras names from the model's
output layer (pure Python over the BuildPlan, so the choice is testable without TensorFlow).
"""

from __future__ import annotations

import re
from typing import Any

from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.params import Bool, Choice, Float, Int, Param, Str
from layerloom.nodes.plan import BuildPlan

SETTING_KEY = "training"

LOSSES = (
    "auto",
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
)
METRICS = ("accuracy", "mae", "mse", "rmse", "auc", "precision", "recall")
# Random image augmentation of the training batches (``nodes.datasets.augment`` applies it; the
# validation and test pipelines are never augmented): each choice names its steps, in order.
AUGMENTATIONS: dict[str, tuple[str, ...]] = {
    "none": (),
    "flip": ("flip",),
    "flip_rotate": ("flip", "rotate"),
    "flip_rotate_zoom": ("flip", "rotate", "zoom"),
}

SETTINGS: tuple[Param, ...] = (
    Choice("optimizer", "adam", "update rule", choices=("adam", "adamw", "sgd", "rmsprop")),
    Float("learning_rate", 1e-3, "initial learning rate", min=1e-8, max=10.0),
    Float("momentum", 0.9, "momentum (sgd and rmsprop only)", min=0.0, max=0.999),
    Float("weight_decay", 0.004, "decoupled weight decay (adamw only)", min=0.0, max=1.0),
    Choice(
        "schedule", "constant", "learning-rate schedule", choices=("constant", "cosine", "step")
    ),
    Int("step_every", 10, "step schedule: epochs between drops", min=1),
    Float(
        "step_factor",
        0.1,
        "step schedule: multiply the rate by this at each drop",
        min=1e-6,
        max=1.0,
    ),
    Choice("loss", "auto", "auto: chosen from the output layer", choices=LOSSES),
    Str("metrics", "auto", "auto, none, or a comma-separated list: " + ", ".join(METRICS)),
    Int("epochs", 10, "passes over the training data", min=1, max=100_000),
    Int("batch_size", 32, "samples per step", min=1, max=1_000_000),
    Choice(
        "augmentation",
        "none",
        "random changes to training images (flip left-right, rotate up to 36 degrees, zoom up"
        " to 10 %); image inputs only, never validation or test",
        choices=tuple(AUGMENTATIONS),
    ),
    Int("early_stopping", 0, "stop after this many epochs without improvement (0 = off)", min=0),
    Bool("reduce_lr_on_plateau", False, "halve the rate when the monitored loss stalls"),
    Int("plateau_patience", 3, "epochs without improvement before the rate is reduced", min=1),
    Int(
        "checkpoint_seconds",
        10,
        "write checkpoints at most this often (0: every epoch); the end state is always written",
        min=0,
    ),
    Int("seed", 42, "seed for weights, shuffling and dropout", min=0, max=2**31 - 1),
    Bool("mixed_precision", False, "float16 compute on GPU (ignored on CPU, with a log line)"),
    Bool("xla", False, "compile the training step with XLA (jit_compile)"),
    Str("device", "auto", "auto, cpu, gpu (all GPUs) or gpu:N"),
    Int("batch_event_every", 10, "report progress every N steps", min=1, max=1_000_000),
    Bool("health", True, "sample training health per node (gradients, dead units, ...)"),
    Int(
        "health_every",
        0,
        "sample health every N steps (0: automatically, at most ~2 % of training time)",
        min=0,
        max=1_000_000,
    ),
)
BY_NAME: dict[str, Param] = {p.name: p for p in SETTINGS}
DEFAULTS: dict[str, Any] = {p.name: p.default for p in SETTINGS}

_DEVICE = re.compile(r"^(auto|cpu|gpu|gpu:\d+)$")


class SettingsError(LayerloomError):
    """Training settings that cannot be used; the message names the setting."""


def problems(settings: dict[str, Any]) -> list[str]:
    """Every problem with ``settings`` (unknown names, bad values, bad combinations)."""
    found = [f"unknown training setting {name!r}" for name in settings if name not in BY_NAME]
    full = {**DEFAULTS, **{k: v for k, v in settings.items() if k in BY_NAME}}
    for param in SETTINGS:
        message = param.check(full[param.name])
        if message:
            found.append(message)
    if found:
        return found
    if not _DEVICE.match(full["device"]):
        found.append(f"device must be auto, cpu, gpu or gpu:N, got {full['device']!r}")
    try:
        parse_metrics(full["metrics"])
    except SettingsError as error:
        found.append(str(error))
    if full["reduce_lr_on_plateau"] and full["schedule"] != "constant":
        # Keras cannot lower a rate that a schedule computes from the step count.
        found.append("reduce_lr_on_plateau needs schedule 'constant'")
    return found


def image_inputs(plan: BuildPlan) -> list[str]:
    """The plan's Inputs that hold images: (height, width, channels) of known sizes, with 1, 3
    or 4 channels, as floats (the pipelines decode images to the Input's dtype)."""
    return [
        item.name
        for item in plan.inputs
        if len(item.shape) == 3
        and all(isinstance(d, int) for d in item.shape)
        and item.shape[-1] in (1, 3, 4)
        and item.dtype.startswith("float")
    ]


def augmentation_problem(settings: dict[str, Any], plan: BuildPlan) -> str | None:
    """Why the ``augmentation`` setting cannot apply to this model, or None when it can: image
    augmentation of a model without an image Input would do nothing, so it is refused by name."""
    chosen = settings.get("augmentation", "none")
    if chosen == "none" or image_inputs(plan):
        return None
    shapes = ", ".join(f"{plan.display(i.name)} {tuple(i.shape)} {i.dtype}" for i in plan.inputs)
    return (
        f"augmentation {chosen!r} works on image inputs (height, width, 1/3/4 channels, float);"
        f" this model has none ({shapes or 'no inputs'}): set augmentation=none"
    )


def resolve(settings: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """Defaults + ``settings`` + non-None ``overrides``, normalised; SettingsError when invalid."""
    merged = {**(settings or {}), **{k: v for k, v in overrides.items() if v is not None}}
    found = problems(merged)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise SettingsError(f"invalid training settings: {found[0]}{more}")
    return {p.name: p.normalize(merged.get(p.name, p.default)) for p in SETTINGS}


def load(project: Any) -> dict[str, Any]:
    """The project's stored settings with defaults filled in (``project`` is a nodes Project)."""
    return resolve(project.get_setting(SETTING_KEY, {}))


def save(project: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """Validate and store only the values that differ from the defaults; return the full set."""
    full = resolve(settings)
    project.set_setting(SETTING_KEY, {k: v for k, v in full.items() if v != DEFAULTS[k]})
    return full


def parse_metrics(text: str) -> list[str] | None:
    """``"auto"`` -> None (decide later); ``"none"`` -> []; otherwise the listed known names."""
    text = text.strip().lower()
    if text == "auto":
        return None
    if text in ("", "none"):
        return []
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise SettingsError(f"unknown metric {unknown[0]!r}; known: {', '.join(METRICS)}")
    return names


def output_kind(plan: BuildPlan) -> str:
    """'multiclass', 'binary', 'logits' or 'regression', read from the plan's first output layer.

    A softmax output (a Dense/Conv activation, a Softmax layer or an Activation layer) is a class
    distribution; one sigmoid unit is a yes/no; anything else predicts values.
    """
    layers = {layer.name: layer for layer in plan.layers}
    layer = layers.get(plan.outputs[0]) if plan.outputs else None
    if layer is None:
        return "regression"
    activation = layer.config.get("activation")
    if layer.class_name == "Softmax" or activation == "softmax":
        return "multiclass"
    if activation == "sigmoid" and layer.config.get("units") == 1:
        return "binary"
    return "regression"


def resolve_loss(settings: dict[str, Any], plan: BuildPlan, task: str | None = None) -> str:
    """The Keras loss name. ``task`` (from the dataset's check, when known) wins over the output
    layer: a regression or reconstruction dataset never gets a crossentropy loss."""
    if settings["loss"] != "auto":
        return settings["loss"]
    if task in ("regression", "reconstruction"):
        return "mean_squared_error"
    kind = output_kind(plan)
    if kind == "binary" or (task == "classification" and _output_units(plan) == 1):
        return "binary_crossentropy"
    if kind == "multiclass" or task == "classification":
        return "sparse_categorical_crossentropy"
    return "mean_squared_error"


def from_logits(plan: BuildPlan, loss: str) -> bool:
    """A crossentropy over an output without softmax/sigmoid reads raw scores (logits)."""
    return is_classification(loss) and output_kind(plan) == "regression"


def _output_units(plan: BuildPlan) -> int | None:
    layer = next(
        (item for item in plan.layers if plan.outputs and item.name == plan.outputs[0]), None
    )
    return layer.config.get("units") if layer else None


def resolve_metrics(settings: dict[str, Any], loss: str) -> list[str]:
    chosen = parse_metrics(settings["metrics"])
    if chosen is not None:
        return chosen
    return ["accuracy"] if "crossentropy" in loss else ["mae"]


def is_classification(loss: str) -> bool:
    return "crossentropy" in loss
