"""Reading the worker's events and the store's metric rows as plain data (no Qt here).

The worker speaks JSON Lines (``started``, ``batch``, ``epoch``, ``checkpoint``, ``log``,
``finished``, ``failed``/``cancelled``, each with ``seq``). The GUI only needs a few things from an
event: its type, the epoch/step it belongs to, and its metric values. These helpers read them while
tolerating the spellings a transport may use (``type``/``event``, ``metrics``/``logs``), so the
widgets do not break when the protocol grows a field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from layerloom.nodes.wording import plural

# Top-level keys that are never metrics, when an event carries its metrics flat.
RESERVED = frozenset(
    {
        "type",
        "event",
        "kind",
        "seq",
        "epoch",
        "epochs",
        "step",
        "steps",
        "batch",
        "steps_per_epoch",
        "time",
        "t",
        "ts",
        "elapsed",
        "run_id",
        "samples",
        "batch_size",
        "size",
        "global_step",
        "initial_epoch",
        "initial_step",
        "samples_per_second",
        "seconds",
        "lr",
    }
)


def event_type(event: Mapping[str, Any]) -> str:
    return str(event.get("type") or event.get("event") or event.get("kind") or "")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def metrics_of(event: Mapping[str, Any]) -> dict[str, float]:
    """The metric values an event carries (``{"loss": 0.4, "val_loss": 0.5, ...}``)."""
    nested = event.get("metrics")
    if not isinstance(nested, Mapping):
        nested = event.get("logs")
    if isinstance(nested, Mapping):
        items = nested.items()
    else:
        items = ((k, v) for k, v in event.items() if k not in RESERVED)
    out = {}
    for key, value in items:
        number = _number(value)
        if number is not None:
            out[str(key)] = number
    return out


def base_name(metric: str) -> str:
    """``val_accuracy`` -> ``accuracy``: train and validation share a plot."""
    return metric[4:] if metric.startswith("val_") else metric


def first_int(event: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = event.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def epoch_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """Per-epoch series ``{metric: (epochs, values)}`` from events or stored metric rows.

    Accepted row shapes: ``epoch`` events; long rows ``{"epoch", "name", "value"}`` (optionally
    with a ``scope``/``kind`` that is ``"epoch"``); wide rows ``{"epoch": 1, "loss": ..}``.
    Epochs are 1-based, as the worker protocol numbers them.
    """
    points: dict[str, dict[int, float]] = {}
    for row in rows:
        kind = event_type(row)
        if kind and kind not in ("epoch", "epoch_end"):
            continue
        scope = row.get("scope", row.get("level"))
        if scope not in (None, "epoch"):
            continue
        epoch = first_int(row, "epoch")
        if epoch is None:
            continue
        if "name" in row and "value" in row:
            value = _number(row["value"])
            if value is not None:
                points.setdefault(str(row["name"]), {})[epoch] = value
            continue
        for name, value in metrics_of(row).items():
            points.setdefault(name, {})[epoch] = value
    return {name: (sorted(p), [p[e] for e in sorted(p)]) for name, p in points.items()}


def describe_event(event: dict) -> str | None:
    """One log line for an event worth reading (batches are not)."""
    kind = event_type(event)
    if kind == "started":
        devices = ", ".join(str(d) for d in event.get("devices") or []) or "cpu"
        params = event.get("params")
        count = f"{params:,} parameters" if isinstance(params, int) else "the model"
        return (
            f"started: {count} on {devices}, {event.get('steps_per_epoch')} steps per epoch, "
            f"{plural(event.get('epochs') or 0, 'epoch')}"
        )
    if kind == "epoch":
        metrics = event.get("metrics") or {}
        values = " · ".join(
            f"{k} {v:.4g}" for k, v in metrics.items() if isinstance(v, (int, float))
        )
        return f"epoch {event.get('epoch')}: {values}"
    if kind == "checkpoint":
        return f"checkpoint ({event.get('kind')}) after epoch {event.get('epoch')}"
    if kind == "log":
        return f"{event.get('level', 'info')}: {event.get('message', '')}"
    if kind == "finished":
        return f"{event.get('status', 'finished')} (best epoch {event.get('best_epoch')})"
    if kind == "failed":
        detail = event.get("detail")
        return f"failed: {event.get('reason')}" + (f"\n{detail}" if detail else "")
    return None
