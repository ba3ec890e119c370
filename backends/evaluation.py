"""Evaluation figures from true and predicted values: plain NumPy, no TensorFlow.

The worker computes them after ``model.predict`` on one split and sends them in a ``result`` event;
the orchestrator turns the dict into ``app.workbench.training.Evaluation``. Keeping the arithmetic
here makes it testable on hand-made arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_PAIRS = 1000  # predicted-vs-true points kept for a regression plot; enough to see the shape
MAX_PREDICTION_ROWS = 10_000  # per-sample rows sent for the predictions viewer (bounded message)


def classification_report(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str] | None = None
) -> dict[str, Any]:
    """Accuracy, the confusion matrix (rows: true class, columns: predicted) and per-class P/R/F1."""
    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
    y_pred = np.asarray(y_pred).astype(np.int64).reshape(-1)
    count = int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    if class_names and len(class_names) >= count:
        count = len(class_names)
    names = list(class_names or [])[:count] + [str(i) for i in range(len(class_names or []), count)]
    matrix = np.zeros((count, count), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    actual = matrix.sum(axis=1).astype(np.float64)
    precision = np.divide(true_positive, predicted, out=np.zeros(count), where=predicted > 0)
    recall = np.divide(true_positive, actual, out=np.zeros(count), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(count), where=both > 0)
    per_class = [
        {
            "class": names[i],
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(actual[i]),
        }
        for i in range(count)
    ]
    total = int(matrix.sum())
    return {
        "task": "classification",
        "samples": total,
        "accuracy": float(true_positive.sum() / total) if total else 0.0,
        "classes": names,
        "confusion_matrix": matrix.tolist(),
        "per_class": per_class,
    }


def regression_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """MAE, RMSE and R² over every value, and up to MAX_PAIRS (true, predicted) pairs."""
    true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    error = pred - true
    variance = float(((true - true.mean()) ** 2).sum()) if true.size else 0.0
    # Evenly spaced pairs, not the first N: a sorted split would otherwise show one corner only.
    pick = np.linspace(0, true.size - 1, num=min(MAX_PAIRS, true.size)).astype(np.int64)
    return {
        "task": "regression",
        "samples": int(np.asarray(y_true).shape[0]) if np.asarray(y_true).ndim else 1,
        "mae": float(np.abs(error).mean()) if true.size else 0.0,
        "rmse": float(np.sqrt((error**2).mean())) if true.size else 0.0,
        "r2": 1.0 - float((error**2).sum()) / variance if variance > 0 else 0.0,
        "pairs": [[float(true[i]), float(pred[i])] for i in pick] if true.size else [],
    }


def predicted_classes(probabilities: np.ndarray) -> np.ndarray:
    """Class ids from model outputs: argmax over classes, or a 0.5 threshold for one unit."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim >= 2 and probabilities.shape[-1] > 1:
        return probabilities.argmax(axis=-1)
    return (probabilities.reshape(-1) >= 0.5).astype(np.int64)


def true_classes(labels: np.ndarray) -> np.ndarray:
    """Class ids from labels: integer ids as they are, one-hot rows via argmax."""
    labels = np.asarray(labels)
    if labels.ndim >= 2 and labels.shape[-1] > 1:
        return labels.argmax(axis=-1)
    return labels.reshape(-1).round().astype(np.int64)


def classification_rows(y_true, y_pred, probabilities=None, losses=None) -> list[dict[str, Any]]:
    """One row per sample: index, true and predicted class, confidence (top probability) and the
    sample's cross-entropy loss (unless ``losses`` gives it), for the predictions viewer."""
    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)[:MAX_PREDICTION_ROWS]
    y_pred = np.asarray(y_pred).astype(np.int64).reshape(-1)[:MAX_PREDICTION_ROWS]
    confidence = loss = None
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype=np.float64)[:MAX_PREDICTION_ROWS]
        if probs.ndim == 1 or probs.shape[-1] == 1:  # one sigmoid unit: P(class 1)
            p1 = probs.reshape(-1)
            probs = np.stack([1 - p1, p1], axis=1)
        confidence = probs[np.arange(len(y_pred)), np.clip(y_pred, 0, probs.shape[1] - 1)]
        picked = probs[np.arange(len(y_true)), np.clip(y_true, 0, probs.shape[1] - 1)]
        loss = -np.log(np.clip(picked, 1e-12, 1.0))
    if losses is not None:
        loss = np.asarray(losses, dtype=np.float64).reshape(-1)[:MAX_PREDICTION_ROWS]
    return [
        {
            "index": i,
            "true": int(y_true[i]),
            "predicted": int(y_pred[i]),
            "confidence": None if confidence is None else float(confidence[i]),
            "loss": None if loss is None else float(loss[i]),
        }
        for i in range(len(y_true))
    ]


def regression_rows(y_true, y_pred) -> list[dict[str, Any]]:
    """One row per sample with its mean absolute error as the loss."""
    true = np.asarray(y_true, dtype=np.float64)[:MAX_PREDICTION_ROWS]
    pred = np.asarray(y_pred, dtype=np.float64)[:MAX_PREDICTION_ROWS]
    true, pred = true.reshape(len(true), -1), pred.reshape(len(pred), -1)
    error = np.abs(pred - true).mean(axis=1)
    return [
        {
            "index": i,
            "true": float(true[i, 0]) if true.shape[1] == 1 else true[i].tolist(),
            "predicted": float(pred[i, 0]) if pred.shape[1] == 1 else pred[i].tolist(),
            "confidence": None,
            "loss": float(error[i]),
        }
        for i in range(len(true))
    ]
