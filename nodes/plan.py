"""BuildPlan: the pure, JSON-serialisable middle stage of compile.

It lists graph inputs, the layers in topological order with their Keras class, config and sources,
and the model outputs, under Keras-safe names (``nodes.naming``). It needs no TensorFlow, so it
is golden-tested and shipped to training workers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PLAN_FORMAT = 1


@dataclass(frozen=True)
class PlanInput:
    name: str
    shape: list[int | None]
    dtype: str


@dataclass(frozen=True)
class PlanLayer:
    name: str
    type_id: str
    class_name: str
    config: dict[str, Any]
    call: str
    inputs: list[tuple[str, str]]  # (port, source layer or input name), in port order
    trainable: bool = True  # False: a frozen node, built with ``layer.trainable = False``


@dataclass(frozen=True)
class BuildPlan:
    name: str
    inputs: list[PlanInput]
    layers: list[PlanLayer]
    outputs: list[str]
    format: int = field(default=PLAN_FORMAT)
    # Keras name -> node name, for the names ``nodes.naming`` had to change (display only).
    node_names: dict[str, str] = field(default_factory=dict)

    def display(self, name: str) -> str:
        """The node name a user gave, for a Keras layer, input or output name of this plan."""
        return self.node_names.get(name, name)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if not data["node_names"]:
            del data["node_names"]  # plans of plain names stay as they were
        for layer in data["layers"]:
            layer["inputs"] = [list(pair) for pair in layer["inputs"]]
            if layer["trainable"]:
                del layer["trainable"]  # plans without frozen nodes stay as they were
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildPlan:
        return cls(
            name=data["name"],
            inputs=[PlanInput(**item) for item in data["inputs"]],
            layers=[
                PlanLayer(**{**item, "inputs": [tuple(pair) for pair in item["inputs"]]})
                for item in data["layers"]
            ],
            outputs=list(data["outputs"]),
            format=data.get("format", PLAN_FORMAT),
            node_names=dict(data.get("node_names") or {}),
        )
