"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax. All keep the input shape; only PReLU
has weights (a learned slope per element, optionally shared along some axes).
"""

from __future__ import annotations

import math

from layerloom.nodes.catalog._shapes import fmt, keras_axis
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import Float, Int, Ints
from layerloom.nodes.spec import NodeSpec, Params, Shape


def _prelu_alpha_shape(params: Params, shape: Shape) -> Shape:
    """Shape of PReLU's learned slopes: the input's, with size 1 along each shared axis."""
    shared = params["shared_axes"] or ()
    for axis in shared:
        if axis > len(shape):
            raise ShapeError(
                f"PReLU expects shared_axes within the input's axes 1..{len(shape)}, "
                f"got {axis} for {fmt(shape)}"
            )
    return tuple(1 if axis in shared else size for axis, size in enumerate(shape, start=1))


def _prelu_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    if None in _prelu_alpha_shape(params, shape):
        raise ShapeError(
            "PReLU learns a slope per element, so it expects known sizes on every axis not in "
            f"shared_axes, got {fmt(shape)}"
        )
    return shape


def _prelu_params(params: Params, shapes: list[Shape]) -> int:
    return math.prod(size or 0 for size in _prelu_alpha_shape(params, shapes[0]))


def _softmax_shape(params: Params, shapes: list[Shape]) -> Shape:
    # Keras accepts any axis when building; a missing axis fails when it runs, and the batch axis
    # would mix samples.
    keras_axis(params["axis"], shapes[0], "Softmax")
    return shapes[0]


SPECS = [
    NodeSpec(
        type_id="keras.layers.ReLU",
        category="activation",
        doc="Rectified linear unit: max(x, 0), optionally capped (max_value=6 is ReLU6) and leaky.",
        params=(
            Float(
                "max_value", None, "Upper cap on the output; empty = no cap", optional=True, min=0.0
            ),
            Float("negative_slope", 0.0, "Slope below the threshold", min=0.0, max=1.0),
            Float(
                "threshold", 0.0, "Inputs below this are zeroed (or scaled by the slope)", min=0.0
            ),
        ),
        keras_class="ReLU",
    ),
    NodeSpec(
        type_id="keras.layers.LeakyReLU",
        category="activation",
        doc="Leaky ReLU: x for x >= 0, negative_slope * x below zero.",
        params=(Float("negative_slope", 0.3, "Slope for negative inputs", min=0.0, max=1.0),),
        keras_class="LeakyReLU",
    ),
    NodeSpec(
        type_id="keras.layers.PReLU",
        category="activation",
        doc="Parametric ReLU: like LeakyReLU with the negative slope learned per element.",
        params=(
            Ints(
                "shared_axes",
                None,
                "Axes that share one slope (1 = first after batch); empty = a slope per element",
                optional=True,
                min=1,
            ),
        ),
        infer=_prelu_shape,
        count_params=_prelu_params,
        keras_class="PReLU",
    ),
    NodeSpec(
        type_id="keras.layers.ELU",
        category="activation",
        doc="Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) below zero.",
        params=(Float("alpha", 1.0, "Scale of the negative part", min=0.0, max=10.0),),
        keras_class="ELU",
    ),
    NodeSpec(
        type_id="keras.layers.Softmax",
        category="activation",
        doc="Softmax: turns scores along one axis into probabilities that sum to 1.",
        params=(Int("axis", -1, "Axis to normalize over: 1 = first after batch, -1 = last"),),
        infer=_softmax_shape,
        keras_class="Softmax",
    ),
]
