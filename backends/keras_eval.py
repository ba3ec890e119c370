"""Evaluate jobs inside the worker: a checkpoint's weights, one split, figures in a ``result`` event.

Evaluation runs in a worker like training does, so TensorFlow's memory stays out of the GUI. The
figures themselves are computed by ``backends.evaluation`` (plain NumPy).
"""

from __future__ import annotations

from typing import Any

from layerloom.backends.checkpoints import load_weights_only
from layerloom.backends.evaluation import (
    classification_report,
    classification_rows,
    predicted_classes,
    regression_report,
    regression_rows,
    true_classes,
)
from layerloom.backends.keras_common import build_compiled_model, choose_strategy, open_data
from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.training import from_logits, is_classification


def _predict(model: Any, dataset: Any) -> tuple[Any, Any]:
    import numpy as np

    truths, outputs = [], []
    for x, y in dataset:
        outputs.append(np.asarray(model.predict_on_batch(x)))
        truths.append(np.asarray(y))
    return np.concatenate(truths), np.concatenate(outputs)


def evaluate(job: Job, writer: EventWriter, stop: Any = None) -> None:
    import numpy as np

    keras = load_keras()
    _, devices = choose_strategy(job.settings, writer)
    keras.utils.set_random_seed(int(job.settings["seed"]))
    plan = BuildPlan.from_json(job.plan)
    data = open_data(job, plan)
    dataset = {"train": data.train, "validation": data.validation, "test": data.test}[job.split]
    if dataset is None:
        raise LayerloomError(f"the dataset has no {job.split} split (its share is 0)")
    if not job.resume_from:
        raise LayerloomError("an evaluate job needs a checkpoint")
    model, loss, _ = build_compiled_model(job, plan, data)
    load_weights_only(model, job.resume_stem())
    count = {"train": data.num_train, "validation": data.num_validation, "test": data.num_test}
    writer.emit(
        "started",
        kind="evaluate",
        params=int(model.count_params()),
        devices=devices,
        steps_per_epoch=-(-count[job.split] // data.batch_size),
        samples={job.split: count[job.split]},
    )
    metrics = {
        name: float(value)
        for name, value in model.evaluate(dataset, return_dict=True, verbose=0).items()
    }
    y_true, y_out = _predict(model, dataset)
    if is_classification(loss):
        if from_logits(plan, loss):
            # Scores, not probabilities: one unit thresholds at 0, so squash it to [0, 1] first.
            y_out = 1.0 / (1.0 + np.exp(-y_out)) if y_out.shape[-1] == 1 else y_out
        labels, guesses = true_classes(y_true), predicted_classes(y_out)
        report = classification_report(labels, guesses, data.class_names)
        report["predictions"] = classification_rows(labels, guesses, y_out)
    else:
        report = regression_report(y_true, y_out)
        report["predictions"] = regression_rows(y_true, y_out)
    report.update(split=job.split, loss_name=loss, metrics=metrics)
    writer.emit("result", evaluation=report)
    writer.emit("finished", status="finished", metrics=metrics, best_epoch=None, best=None)
