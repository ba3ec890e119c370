"""Core layers: Dense, Activation, Dropout, Embedding."""

from __future__ import annotations

from nodes.catalog._shapes import require_known, require_min_rank
from nodes.params import ACTIVATIONS, Bool, Choice, Int
from nodes.spec import NodeSpec, Params, Shape


def _dense_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    require_min_rank(shape, 1, "Dense")
    require_known(shape[-1], "Dense's input feature size")
    return (*shape[:-1], params["units"])


def _dense_params(params: Params, shapes: list[Shape]) -> int:
    features = shapes[0][-1] or 0
    return features * params["units"] + (params["units"] if params["use_bias"] else 0)


SPECS = [
    NodeSpec(
        type_id="keras.layers.Dense",
        category="core",
        doc="Fully connected layer: output = activation(input @ kernel + bias) on the last axis.",
        params=(
            Int("units", 64, "Number of output features", min=1),
            Choice("activation", "linear", "Activation applied to the output", choices=ACTIVATIONS),
            Bool("use_bias", True, "Add a learned bias"),
        ),
        infer=_dense_shape,
        count_params=_dense_params,
        keras_class="Dense",
    ),
]
