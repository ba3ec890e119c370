"""Evaluation figures from true and predicted values: plain NumPy, no TensorFlow.

The worker computes them after ``model.predict`` on one split and sends them in a ``result`` event;
the orchestrator turns the dict into ``app.workbench.training.Evaluation``. Keeping the arithmetic
here makes it testable on hand-made arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_PAIRS = 1000  # predicted-vs-true points kept for a regression plot; enough to see the shape


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
