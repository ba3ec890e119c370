"""The pipeline's evaluation gate: ``metric OP number``, several joined by ``and``.

A small tokenizer and parser, never ``eval``: a gate comes from a command line or a CI file, and
only names, the six comparison operators, numbers and ``and`` mean anything in it. Metric names
are checked against the figures an evaluation gives (``known_metrics``) before anything trains,
so a typo is refused by name, not after minutes of training.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from layerloom.nodes.errors import UsageError

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
# Longest operators first, so ">=" is never read as ">" followed by "=".
_TOKEN = re.compile(
    r"\s*(?:(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>>=|<=|==|!=|>|<))"
)
# What an evaluation on the test split reports, under its own name and with ``test_``; the
# training run's best epoch gives the ``val_`` figures.
BASE_METRICS = ("loss", "accuracy", "mae", "mse", "rmse", "r2", "auc", "precision", "recall")


class GateError(UsageError):
    """A gate expression that cannot be read, or that names a metric no evaluation gives."""


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"

    def holds(self, figure: float) -> bool:
        return OPERATORS[self.op](figure, self.value)


@dataclass(frozen=True)
class Gate:
    text: str
    conditions: tuple[Condition, ...]

    def __str__(self) -> str:
        return " and ".join(str(c) for c in self.conditions)

    def check(self, figures: dict[str, float]) -> tuple[bool, list[str]]:
        """(whether every condition holds, one line per condition with its figure)."""
        ok, lines = True, []
        for condition in self.conditions:
            figure = figures.get(condition.metric)
            if figure is None or not math.isfinite(figure):
                ok = False
                lines.append(f"{condition}: the evaluation gave no {condition.metric}")
                continue
            holds = condition.holds(figure)
            ok = ok and holds
            lines.append(f"{condition}: {figure:.4g} ({'holds' if holds else 'fails'})")
        return ok, lines


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    stripped = text.rstrip()
    while at < len(stripped):
        match = _TOKEN.match(stripped, at)
        if match is None or match.end() == at:
            raise GateError(
                f"gate {text!r}: cannot read {stripped[at:].strip()[:20]!r} at character"
                f" {at + 1}; write METRIC OP NUMBER, joined by 'and' (e.g. 'accuracy>=0.9')"
            )
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


def parse_gate(text: str, known: Iterable[str] | None = None) -> Gate:
    """The gate ``text`` means; GateError naming what is wrong. ``known``: the metric names
    allowed (None: any name)."""
    if not text or not text.strip():
        raise GateError("the gate is empty; write METRIC OP NUMBER (e.g. 'accuracy>=0.9')")
    tokens = _tokens(text)
    conditions: list[Condition] = []
    at = 0
    while True:
        part = tokens[at : at + 3]
        kinds = [kind for kind, _ in part]
        if kinds != ["name", "op", "number"] or part[0][1] == "and":
            shown = " ".join(value for _, value in part) or "the end"
            raise GateError(
                f"gate {text!r}: expected METRIC OP NUMBER at {shown!r} (OP is one of"
                f" {', '.join(OPERATORS)})"
            )
        value = float(part[2][1])
        if not math.isfinite(value):
            raise GateError(f"gate {text!r}: {part[2][1]} is not a finite number")
        conditions.append(Condition(part[0][1], part[1][1], value))
        at += 3
        if at == len(tokens):
            break
        if tokens[at] != ("name", "and") or at + 1 == len(tokens):
            shown = tokens[at][1]
            raise GateError(f"gate {text!r}: expected 'and' between conditions, not {shown!r}")
        at += 1
    if known is not None:
        allowed = set(known)
        for condition in conditions:
            if condition.metric not in allowed:
                raise GateError(
                    f"gate {text!r}: unknown metric {condition.metric!r}; known:"
                    f" {', '.join(sorted(allowed))}"
                )
    return Gate(text, tuple(conditions))


def known_metrics(extra: Iterable[str] = ()) -> list[str]:
    """Every name a gate may use: the test split's figures bare and as ``test_*``, the training
    run's best epoch as ``val_*``."""
    base = set(BASE_METRICS) | set(extra)
    return sorted(base | {f"test_{m}" for m in base} | {f"val_{m}" for m in base})
