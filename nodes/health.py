"""Training health in plain words: the figures a worker samples per node, and what they mean.

Pure Python over the recorded figures (no NumPy or TensorFlow needed), so every rule is testable on
hand-made series. A series is ``{node: [record, ...]}`` in graph order, each record a dict with
``step``, ``epoch`` and the ``FIGURES`` (None where a figure does not apply to the node).

The thresholds are deliberately far from what a healthy model shows, so a healthy model reports
nothing; each finding names its node and one thing to try.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

# What a worker samples per node (the order of the ``health --json`` records after ``step``).
FIGURES: tuple[str, ...] = (
    "grad_norm",  # L2 norm of the loss's gradient over the node's trainable weights
    "weight_norm",  # L2 norm of the node's trainable weights
    "update_ratio",  # |W - W_previous sample| / |W| / steps between the samples
    "activation_mean",
    "activation_std",
    "dead_fraction",  # ReLU-like nodes: units whose output is zero over the whole sample batch
    "saturated_fraction",  # sigmoid/tanh nodes: units near their limits on most of the batch
)

DEAD = 0.5  # a node with at least this fraction of dead units is reported
SATURATED = 0.5
VANISHING = 1e-4  # first node's gradient norm over the head's
EXPLODING_RATIO = 1e4
EXPLODING_NORM = 1e4
UPDATE_LOW, UPDATE_HIGH = 1e-6, 1e-1  # per-step update ratios far from the usual ~1e-3
RECENT = 5  # ratios are judged on the median of the last few samples, not one noisy sample

Series = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Finding:
    node: str
    kind: str  # one of RULES' names
    message: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def _value(record: dict[str, Any], name: str) -> float | None:
    value = record.get(name)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _recent(records: Sequence[dict[str, Any]], name: str) -> list[float]:
    values = [_value(r, name) for r in records]
    return [v for v in values if v is not None][-RECENT:]


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100)} %"


def _since(records: Sequence[dict[str, Any]], name: str, limit: float) -> Any:
    """The epoch of the first sample of the run's last unbroken stretch at or above ``limit``."""
    since = None
    for record in records:
        value = _value(record, name)
        since = (since or record.get("epoch")) if value is not None and value >= limit else None
    return since


def _weighted(series: Series) -> list[str]:
    return [node for node, records in series.items() if _recent(records, "grad_norm")]


def dead_units(series: Series, outputs: Iterable[str]) -> list[Finding]:
    found = []
    for node, records in series.items():
        latest = _value(records[-1], "dead_fraction") if records else None
        if latest is None or latest < DEAD:
            continue
        since = _since(records, "dead_fraction", DEAD)
        when = f" since epoch {since}" if since is not None else ""
        found.append(
            Finding(
                node,
                "dead",
                f"{node}: {_percent(latest)} of units dead{when} — lower the learning rate or "
                "use LeakyReLU",
            )
        )
    return found


def _first_and_head(series: Series) -> tuple[str, str, float] | None:
    """The first and last nodes with gradients (graph order) and the median ratio of their
    gradient norms over the recent samples, or None when it cannot be told."""
    weighted = _weighted(series)
    if len(weighted) < 2:
        return None
    first, head = weighted[0], weighted[-1]
    pairs = [
        (_value(a, "grad_norm"), _value(b, "grad_norm"))
        for a, b in zip(series[first], series[head], strict=False)
    ]
    ratios = [a / b for a, b in pairs if a is not None and b is not None and b > 0]
    return (first, head, median(ratios[-RECENT:])) if ratios else None


def vanishing_gradients(series: Series, outputs: Iterable[str]) -> list[Finding]:
    found = _first_and_head(series)
    if found is None:
        return []
    first, head, ratio = found
    dead = _value(series[first][-1], "dead_fraction")
    if ratio >= VANISHING or (dead is not None and dead >= DEAD):
        return []  # a dead first node has no gradient for its own reason, reported as dead
    return [
        Finding(
            first,
            "vanishing",
            f"gradient at {first} is {ratio:.0e} of the head's ({head}): vanishing — add "
            "BatchNormalization or residual connections",
        )
    ]


def exploding_gradients(series: Series, outputs: Iterable[str]) -> list[Finding]:
    found = []
    pair = _first_and_head(series)
    if pair is not None and pair[2] > EXPLODING_RATIO:
        first, head, ratio = pair
        found.append(
            Finding(
                first,
                "exploding",
                f"gradient at {first} is {ratio:.0e} times the head's ({head}): exploding — "
                "lower the learning rate, clip gradients (clipnorm) or add BatchNormalization",
            )
        )
    for node, records in series.items():
        norm = _value(records[-1], "grad_norm") if records else None
        if norm is not None and norm > EXPLODING_NORM and not any(f.node == node for f in found):
            found.append(
                Finding(
                    node,
                    "exploding",
                    f"gradient at {node} has norm {norm:.1e}: exploding — lower the learning "
                    "rate or clip gradients (clipnorm)",
                )
            )
    return found


def saturation(series: Series, outputs: Iterable[str]) -> list[Finding]:
    heads = set(outputs)  # a confident sigmoid head is saturated by design
    found = []
    for node, records in series.items():
        latest = _value(records[-1], "saturated_fraction") if records else None
        if node in heads or latest is None or latest < SATURATED:
            continue
        found.append(
            Finding(
                node,
                "saturated",
                f"{node}: {_percent(latest)} of units saturated — normalise the inputs, lower the "
                "learning rate, or use ReLU",
            )
        )
    return found


def update_ratio(series: Series, outputs: Iterable[str]) -> list[Finding]:
    found = []
    for node, records in series.items():
        recent = _recent(records, "update_ratio")
        if not recent:
            continue
        ratio = median(recent)
        if ratio < UPDATE_LOW:
            advice = "too small: raise the learning rate"
        elif ratio > UPDATE_HIGH:
            advice = "too large: lower the learning rate"
        else:
            continue
        found.append(
            Finding(
                node,
                "update_ratio",
                f"{node}: weights change by {ratio:.0e} of their size per step (~1e-3 is usual) — "
                f"{advice}",
            )
        )
    return found


Rule = Callable[[Series, Iterable[str]], list[Finding]]
# Checked in this order; a node reported by an earlier rule is not reported again for its update
# ratio (a dead or vanishing node's tiny updates are a symptom, not a second problem).
RULES: dict[str, Rule] = {
    "dead": dead_units,
    "vanishing": vanishing_gradients,
    "exploding": exploding_gradients,
    "saturated": saturation,
    "update_ratio": update_ratio,
}


def findings(series: Series, outputs: Iterable[str] = ()) -> list[Finding]:
    """Every finding for ``series`` (``outputs``: the model's output nodes). Healthy: []."""
    heads = list(outputs)
    out: list[Finding] = []
    for kind, rule in RULES.items():
        found = rule(series, heads)
        if kind == "update_ratio":
            named = {f.node for f in out}
            found = [f for f in found if f.node not in named]
        out += found
    return out


def nonfinite_sentence(found: dict[str, Any]) -> str:
    """One line for a replayed divergence (``backends.nan_replay``'s result)."""
    rows = found.get("rows") or []
    shown = ", ".join(str(r) for r in rows[:10]) + (" …" if len(rows) > 10 else "")
    noun = "row" if len(rows) == 1 else "rows"
    which = f"{noun} {shown} of the batch" if rows else "no single row of the batch"
    where = found.get("where")
    if where == "loss":
        return (
            f"first non-finite value: the loss, computed on the finite output of {found['node']} "
            f"at step {found['step']}"
        )
    what = "output" if where == "output" else "gradient"
    return (
        f"first non-finite value: the {what} of {found['node']} at step {found['step']} ({which})"
    )
