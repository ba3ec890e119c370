"""Typed parameter kinds for node specs.

Kinds are semantic (an integer with a range, a choice, a tuple of n ints), never widget names: the
GUI inspector, the CLI and the project file all derive their behaviour from them. Parameter names
equal the Keras constructor keyword they feed, so compile needs no per-layer mapping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    doc: str = ""
    optional: bool = False  # None is an accepted value ("not set", Keras' own default)

    kind = "any"

    def check(self, value: Any) -> str | None:
        """Return a problem message for ``value``, or None when it is acceptable."""
        if value is None:
            return None if self.optional else f"{self.name} is required"
        return self._check(value)

    def _check(self, value: Any) -> str | None:
        return None

    def normalize(self, value: Any) -> Any:
        """Turn a JSON-decoded value (lists) into the canonical Python value (tuples)."""
        return value

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly description, used by `layerloom layers --json` and the inspector."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": self.default}
        if self.doc:
            out["doc"] = self.doc
        if self.optional:
            out["optional"] = True
        return out


# Sane upper limits for sizes a user types (issue 15): beyond them a layer's weights alone would
# not fit any machine Layerloom trains on, and Keras would try to allocate them in `summary` and
# crash. Declared per parameter as Int(max=...), so validate, the inspector and edits refuse them.
MAX_WIDTH = 1 << 20  # units, filters, channels, embedding and head sizes: 1,048,576
MAX_VOCABULARY = 1 << 24  # Embedding input_dim (token ids): 16,777,216
MAX_IMAGE_SIDE = 1 << 16  # image height/width in pixels: 65,536


def _range_problem(name: str, value: float, low: float | None, high: float | None) -> str | None:
    if low is not None and value < low:
        return f"{name} must be >= {low}, got {value}"
    if high is not None and value > high:
        return f"{name} must be <= {high:,}, got {value:,}"
    return None


@dataclass(frozen=True)
class Int(Param):
    min: int | None = None
    max: int | None = None
    kind = "int"

    def _check(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{self.name} must be an integer, got {value!r}"
        return _range_problem(self.name, value, self.min, self.max)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "min": self.min, "max": self.max}


@dataclass(frozen=True)
class Float(Param):
    min: float | None = None
    max: float | None = None
    kind = "float"

    def _check(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{self.name} must be a number, got {value!r}"
        if not math.isfinite(value):
            return f"{self.name} must be finite, got {value}"
        return _range_problem(self.name, value, self.min, self.max)

    def normalize(self, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "min": self.min, "max": self.max}


@dataclass(frozen=True)
class Bool(Param):
    kind = "bool"

    def _check(self, value: Any) -> str | None:
        return (
            None if isinstance(value, bool) else f"{self.name} must be true or false, got {value!r}"
        )


@dataclass(frozen=True)
class Choice(Param):
    choices: tuple[Any, ...] = ()
    kind = "choice"

    def _check(self, value: Any) -> str | None:
        if value in self.choices:
            return None
        options = ", ".join(repr(c) for c in self.choices)
        return f"{self.name} must be one of {options}, got {value!r}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "choices": list(self.choices)}


@dataclass(frozen=True)
class Ints(Param):
    """A tuple of integers: exactly ``length`` of them, or any number >= 1 when length is None."""

    length: int | None = None
    min: int | None = None
    allow_none: bool = False  # items may be None (an unknown dimension, e.g. sequence length)
    kind = "ints"

    def _check(self, value: Any) -> str | None:
        if not isinstance(value, (tuple, list)):
            return f"{self.name} must be a list of integers, got {value!r}"
        if self.length is not None and len(value) != self.length:
            return f"{self.name} must have {self.length} values, got {len(value)}"
        if self.length is None and len(value) == 0:
            return f"{self.name} must have at least one value"
        for item in value:
            if item is None and self.allow_none:
                continue
            if isinstance(item, bool) or not isinstance(item, int):
                return f"{self.name} must contain integers, got {item!r}"
            if self.min is not None and item < self.min:
                return f"{self.name} values must be >= {self.min}, got {item}"
        return None

    def normalize(self, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "length": self.length, "min": self.min}


@dataclass(frozen=True)
class Floats(Param):
    """A tuple of numbers (say, fixed per-channel statistics), any length >= 1."""

    kind = "floats"

    def _check(self, value: Any) -> str | None:
        if not isinstance(value, (tuple, list)) or not value:
            return f"{self.name} must be a list of numbers, got {value!r}"
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                return f"{self.name} must contain numbers, got {item!r}"
            if not math.isfinite(item):
                return f"{self.name} must contain finite numbers, got {item}"
        return None

    def normalize(self, value: Any) -> Any:
        return tuple(float(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Str(Param):
    kind = "str"

    def _check(self, value: Any) -> str | None:
        return None if isinstance(value, str) else f"{self.name} must be text, got {value!r}"


ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "sigmoid",
    "tanh",
    "softmax",
    "gelu",
    "silu",
    "swish",
    "elu",
    "selu",
    "softplus",
    "leaky_relu",
    "hard_sigmoid",
    "exponential",
    # Keras' hard swish (MobileNetV3): x * relu6(x + 3) / 6; "hard_swish" is Keras' other name.
    "hard_silu",
    "hard_swish",
)
