"""Values typed as text (``layerloom edit ... filters=8``, ``layerloom settings epochs=5``) read as
their Param's kind.

One parser per kind, in a registry keyed by ``Param.kind``; a kind without one (a plugin's) is read
as JSON when it parses, else kept as text. A parser never judges the value: text it cannot read is
returned as it is, so the Param's own ``check`` names the bad value in the usual words
("filters must be an integer, got 'eight'"). ``None``/``null`` is "not set" for optional params.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from layerloom.nodes.params import Choice, Ints, Param

NONE_WORDS = ("none", "null")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def _int(param: Param, text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def _float(param: Param, text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _bool(param: Param, text: str) -> Any:
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return text


def _choice(param: Param, text: str) -> Any:
    choices = param.choices if isinstance(param, Choice) else ()
    for matches in (lambda c: str(c) == text, lambda c: str(c).lower() == text.lower()):
        found = [choice for choice in choices if matches(choice)]
        if len(found) == 1:
            return found[0]
    return text


def _ints(param: Param, text: str) -> Any:
    """``3,3``, ``3, 3``, ``(3, 3)`` or ``[3,3]`` -> ``(3, 3)``; ``?``/``None`` items for an unknown
    size where the param allows them; ``8`` -> ``(8,)``, or ``(8, 8)`` for two values."""
    body = text.strip().strip("()[]").strip()
    if not body:
        return text
    allow_none = isinstance(param, Ints) and param.allow_none
    parts = body.split(",")
    if len(parts) > 1 and not parts[-1].strip():
        parts = parts[:-1]  # a trailing comma: "8," is one value
    items: list[int | None] = []
    for raw in parts:
        item = raw.strip()
        if allow_none and item.lower() in ("?", *NONE_WORDS):
            items.append(None)
            continue
        try:
            items.append(int(item))
        except ValueError:
            return text
    if len(items) == 1 and isinstance(param, Ints) and param.length:
        items *= param.length  # "3" for a (3, 3) kernel, as Keras reads an int
    return tuple(items)


def _text(param: Param, text: str) -> Any:
    return text


def _json(param: Param, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


PARSERS: dict[str, Callable[[Param, str], Any]] = {
    "int": _int,
    "float": _float,
    "bool": _bool,
    "choice": _choice,
    "ints": _ints,
    "str": _text,
}


def parse_text(param: Param, text: str) -> Any:
    """``text`` as a value of ``param``'s kind, normalised; unreadable text comes back as text."""
    stripped = text.strip()
    if param.optional and stripped.lower() in NONE_WORDS:
        return None
    parser = PARSERS.get(param.kind, _json)
    return param.normalize(parser(param, stripped))


def format_value(value: Any) -> str:
    """A value as a user types it back: ``(3, 3)``, ``true``, ``None``, ``0.001``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        items = ["?" if item is None else format_value(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if value is None:
        return "None"
    return str(value)
