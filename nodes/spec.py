"""Node specs: the data that describes one node type (one Keras layer).

A spec is pure data plus two pure functions: the shape rule and the parameter count. The palette,
inspector, CLI, project file, validation and compile all read specs from the registry, so adding a
layer type is one spec and one test case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from layerloom.nodes.params import Param

Shape = tuple[int | None, ...]  # a tensor shape without the batch dimension; None = unknown size
Params = Mapping[str, Any]
ShapeRule = Callable[[Params, list[Shape]], Shape]
ParamCounter = Callable[[Params, list[Shape]], int]


def format_shape(shape: Shape | list[int | None]) -> str:
    """A shape as users read it: ``(26, 26, 16)``, ``(32,)``, ``?`` for an unknown size."""
    dims = ["?" if d is None else str(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"


@dataclass(frozen=True)
class Port:
    name: str
    doc: str = ""
    optional: bool = False


def _no_weights(params: Params, shapes: list[Shape]) -> int:
    return 0


def _same_shape(params: Params, shapes: list[Shape]) -> Shape:
    return shapes[0]


@dataclass(frozen=True)
class NodeSpec:
    """One node type.

    ``inputs`` are fixed, named ports. A spec with ``variadic_inputs`` instead takes any number of
    inputs between ``min_inputs`` and ``max_inputs`` on ports named ``in0``, ``in1``, ... whose order is
    the order Keras receives them in (it matters for Concatenate and Subtract).

    ``call`` says how compile passes input tensors to the Keras layer: ``single`` (one tensor),
    ``list`` (a list, as merging layers want) or ``kwargs`` (by port name, as MultiHeadAttention wants).
    """

    type_id: str
    category: str
    doc: str
    params: tuple[Param, ...] = ()
    inputs: tuple[Port, ...] = (Port("input"),)
    variadic_inputs: bool = False
    min_inputs: int = 1
    max_inputs: int | None = None
    infer: ShapeRule = _same_shape
    count_params: ParamCounter = _no_weights
    keras_class: str | None = None  # class name in keras.layers; None for graph inputs
    keras_config: Callable[[Params], dict[str, Any]] | None = None  # default: params as kwargs
    call: str = "single"
    is_input: bool = False
    version: int = 1
    replaces: tuple[str, ...] = ()  # older type_ids this spec takes over when loading files
    upgrade: Callable[[dict[str, Any], int], dict[str, Any]] | None = None  # old params -> current
    _param_index: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_param_index", {p.name: p for p in self.params})

    @property
    def label(self) -> str:
        return self.type_id.rsplit(".", 1)[-1]

    def param(self, name: str) -> Param:
        return self._param_index[name]

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def normalize(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Fill in defaults, canonicalise JSON values; unknown keys are kept so nothing is lost."""
        out = self.defaults()
        for key, value in params.items():
            param = self._param_index.get(key)
            out[key] = param.normalize(value) if param is not None else value
        return out

    def check_params(self, params: Mapping[str, Any]) -> list[str]:
        problems = [f"unknown parameter {key!r}" for key in params if key not in self._param_index]
        for param in self.params:
            message = param.check(params.get(param.name, param.default))
            if message:
                problems.append(message)
        return problems

    def input_ports(self, connected: int = 0) -> list[str]:
        """Port names to show: the fixed ports, or for variadic specs the connected ones plus one free."""
        if not self.variadic_inputs:
            return [p.name for p in self.inputs]
        count = max(self.min_inputs, connected + 1)
        if self.max_inputs is not None:
            count = min(count, self.max_inputs)
        return [f"in{i}" for i in range(count)]

    def accepts_port(self, port: str) -> bool:
        if self.variadic_inputs:
            if not (port.startswith("in") and port[2:].isdigit()):
                return False
            return self.max_inputs is None or int(port[2:]) < self.max_inputs
        return any(p.name == port for p in self.inputs)

    def port_order(self, port: str) -> int:
        if self.variadic_inputs:
            return int(port[2:])
        return [p.name for p in self.inputs].index(port)

    def to_keras_config(self, params: Params) -> dict[str, Any]:
        if self.keras_config is not None:
            return self.keras_config(params)
        return {key: _jsonable(value) for key, value in params.items()}

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.type_id,
            "category": self.category,
            "doc": self.doc,
            "params": [p.describe() for p in self.params],
            "inputs": "variadic" if self.variadic_inputs else [p.name for p in self.inputs],
            "version": self.version,
        }


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
