"""Counted nouns in messages: "1 epoch", "2 epochs", never "1 epochs"."""

from __future__ import annotations

IRREGULAR = {"child": "children", "batch": "batches"}


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, the noun in the plural unless the count is exactly one."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {IRREGULAR.get(noun, noun + 's')}"
