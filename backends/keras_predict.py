"""Predict jobs inside the worker: a checkpoint's weights asked about new raw inputs.

The job's ``options`` carry the input contract (``contract``), the sources the orchestrator
collected (``inputs``, ``model_inputs.Source`` as JSON) and how many classes to list (``top``).
Inputs are read by ``backends.model_inputs`` exactly as training read its data; the answer is one
``prediction`` event holding one row per example (``prediction_rows``).

How outputs become answers follows evaluation (``nodes.training``): a crossentropy loss makes a
classifier, whose softmax output is already a distribution, whose one sigmoid unit is P(second
class), and whose output without either holds logits (softmax, or sigmoid for one unit, applied
here). Anything else predicts values, reported as they come out of the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.datasets.contract import InputContract
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.training import from_logits, is_classification, output_kind, resolve_loss

# What a model's first output holds, for ``probabilities``.
ANSWERS = ("distribution", "logits", "sigmoid", "sigmoid_logits", "values")


def answer_kind(plan: BuildPlan, settings: dict[str, Any], task: str | None) -> str:
    """Which of ``ANSWERS`` the plan's first output gives, decided as evaluation decides it."""
    loss = resolve_loss(settings, plan, task)
    if not is_classification(loss):
        return "values"
    units = next(
        (layer.config.get("units") for layer in plan.layers if layer.name in plan.outputs[:1]), None
    )
    if from_logits(plan, loss):
        return "sigmoid_logits" if units == 1 else "logits"
    return "sigmoid" if output_kind(plan) == "binary" or units == 1 else "distribution"


def probabilities(outputs: np.ndarray, answer: str) -> np.ndarray:
    """Class probabilities (examples, classes) from a classifier's outputs."""
    scores = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if answer in ("sigmoid", "sigmoid_logits"):
        p1 = scores[:, :1]
        if answer == "sigmoid_logits":
            p1 = 1.0 / (1.0 + np.exp(-p1))
        return np.concatenate([1.0 - p1, p1], axis=1)
    if answer == "logits":
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return scores


def prediction_rows(
    names: list[str],
    outputs: np.ndarray,
    answer: str,
    class_names: list[str] | None,
    top: int = 1,
) -> list[dict[str, Any]]:
    """One row per example: ``{"input", "prediction", "top": [{"label", "probability"}, ...]}``
    for a classifier (the ``top`` most probable classes, most probable first, ties in class
    order), ``{"input", "value"}`` for values (a number for one output unit, else a list)."""
    if answer == "values":
        values = np.asarray(outputs, dtype=np.float64)
        flat = values.reshape(len(values), -1)
        return [
            {
                "input": name,
                "value": float(flat[i, 0]) if flat.shape[1] == 1 else values[i].tolist(),
            }
            for i, name in enumerate(names)
        ]
    probs = probabilities(outputs, answer)
    labels = list(class_names or [])
    labels += [str(i) for i in range(len(labels), probs.shape[1])]
    keep = max(1, min(int(top), probs.shape[1]))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :keep]
    rows = []
    for i, name in enumerate(names):
        ranked = [{"label": labels[c], "probability": float(probs[i, c])} for c in order[i]]
        rows.append({"input": name, "prediction": ranked[0]["label"], "top": ranked})
    return rows


def predict(job: Job, writer: EventWriter, stop: Any = None) -> None:
    from layerloom.backends.checkpoints import load_weights_only
    from layerloom.backends.model_inputs import Source, read, to_model_inputs
    from layerloom.nodes.keras_build import build_model
    from layerloom.nodes.keras_runtime import load_keras

    keras = load_keras()
    if not job.resume_from:
        raise LayerloomError("a predict job needs a checkpoint")
    plan = BuildPlan.from_json(job.plan)
    contract = InputContract.from_json(job.options["contract"])
    sources = [Source.from_json(item) for item in job.options["inputs"]]
    inputs = read(sources, contract)
    model = build_model(plan)
    load_weights_only(model, job.resume_stem())
    count = len(inputs.names)
    writer.emit(
        "started",
        kind="predict",
        params=int(model.count_params()),
        devices=[],
        steps_per_epoch=1,
        samples={"predict": count},
    )
    keras.utils.set_random_seed(int(job.settings.get("seed", 0)))
    outputs = model.predict(
        to_model_inputs(inputs, [item.name for item in plan.inputs]),
        batch_size=int(job.options.get("batch_size", 64)),
        verbose=0,
    )
    first = outputs[0] if isinstance(outputs, list | tuple) else outputs
    answer = answer_kind(plan, job.settings, contract.task)
    rows = prediction_rows(
        inputs.names, np.asarray(first), answer, contract.class_names, job.options.get("top", 1)
    )
    writer.emit("prediction", answer=answer, output=plan.outputs[0], rows=rows)
    writer.emit("finished", status="finished", metrics={}, best_epoch=None, best=None)
