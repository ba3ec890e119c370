"""What the pipeline measures and compares: an evaluation's figures, overall, per class and per
value of a column (slices), and the comparison with the model pushed last. Plain Python on the
``Evaluation`` that ``evaluating.evaluate`` returns; nothing here starts a worker."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from layerloom.app.workbench.evaluating import Evaluation

# The figure the pipeline compares with the pushed model: (name, higher is better). Accuracy is
# compared in absolute terms, an error relative to the pushed model's (its scale is the data's).
COMPARED = {"classification": ("accuracy", True), "regression": ("mae", False)}
DEFAULT_TOLERANCE = 0.01
MIN_SLICE = 1  # every value is shown; figures on a handful of rows say so with their count


def overall(evaluation: Evaluation) -> dict[str, float]:
    """The evaluation's figures by name: Keras' own metrics, accuracy, MAE/RMSE/R²."""
    figures = {k: float(v) for k, v in evaluation.metrics.items() if _finite(v)}
    for name in ("accuracy", "mae", "rmse", "r2"):
        value = getattr(evaluation, name)
        if _finite(value):
            figures[name] = float(value)
    return figures


def gate_figures(evaluation: Evaluation, best_metrics: dict[str, float]) -> dict[str, float]:
    """The names a gate may use: the test figures bare and as ``test_*``, and the training run's
    best epoch's ``val_*`` metrics."""
    test = overall(evaluation)
    figures = {**test, **{f"test_{k}": v for k, v in test.items()}}
    figures |= {k: float(v) for k, v in best_metrics.items() if k.startswith("val_") and _finite(v)}
    return figures


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def per_class(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [dict(row) for row in evaluation.per_class]


def slices(evaluation: Evaluation, values: list[str]) -> list[dict[str, Any]]:
    """Per value of a column (``values``: that column on the evaluated split, in its order, as
    the evaluation's per-sample rows are): how many rows, and accuracy (classification) or MAE."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in evaluation.predictions:
        index = int(row["index"])
        if index < len(values):
            groups.setdefault(values[index], []).append(row)
    out = []
    for value in sorted(groups):
        rows = groups[value]
        entry: dict[str, Any] = {"value": value, "samples": len(rows)}
        if evaluation.task == "regression":
            errors = [abs(float(r["true"]) - float(r["predicted"])) for r in rows]
            entry["mae"] = sum(errors) / len(errors)
        else:
            entry["accuracy"] = sum(r["true"] == r["predicted"] for r in rows) / len(rows)
        out.append(entry)
    return out


@dataclass(frozen=True)
class Comparison:
    metric: str
    candidate: float
    pushed: float
    worse_by: float  # in the tolerance's terms: absolute for accuracy, relative for an error
    tolerance: float

    @property
    def acceptable(self) -> bool:
        return self.worse_by <= self.tolerance + 1e-12

    def sentence(self, version: int | None) -> str:
        against = f"the pushed version {version}" if version else "the pushed model"
        how = "relative" if self.metric != "accuracy" else "absolute"
        verb = "within" if self.acceptable else "worse than"
        return (
            f"test {self.metric} {self.candidate:.4g} against {self.pushed:.4g} of {against}"
            f" on the same data: {verb} the tolerance {self.tolerance:g} ({how})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "candidate": self.candidate,
            "pushed": self.pushed,
            "worse_by": self.worse_by,
            "tolerance": self.tolerance,
            "acceptable": self.acceptable,
        }


def compare(candidate: Evaluation, pushed: Evaluation, tolerance: float) -> Comparison | None:
    """How much worse the candidate is than the pushed model on the same split; None when the
    two evaluations share no figure to compare."""
    metric, higher = COMPARED.get(candidate.task, COMPARED["classification"])
    mine, theirs = overall(candidate).get(metric), overall(pushed).get(metric)
    if mine is None or theirs is None:
        return None
    if higher:
        worse = theirs - mine
    else:
        worse = (mine - theirs) / max(abs(theirs), 1e-12)
    return Comparison(metric, mine, theirs, worse, tolerance)
