"""Graph inputs."""

from __future__ import annotations

from layerloom.nodes.params import Choice, Ints
from layerloom.nodes.spec import NodeSpec, Params, Shape

INPUT = "keras.Input"


def _input_shape(params: Params, shapes: list[Shape]) -> Shape:
    return tuple(params["shape"])


SPECS = [
    NodeSpec(
        type_id=INPUT,
        category="inputs",
        doc="A model input: one sample's shape, without the batch dimension.",
        params=(
            Ints(
                "shape",
                (28, 28, 1),
                "Shape of one sample (no batch); empty size = any",
                min=1,
                allow_none=True,
            ),
            Choice("dtype", "float32", "Element type", choices=("float32", "int32", "int64")),
        ),
        inputs=(),
        infer=_input_shape,
        is_input=True,
    ),
]
