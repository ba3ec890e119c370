"""Core layers: Dense, Activation, Dropout, Embedding."""

from __future__ import annotations

from layerloom.nodes.catalog._shapes import require_known, require_min_rank
from layerloom.nodes.params import (
    ACTIVATIONS,
    MAX_VOCABULARY,
    MAX_WIDTH,
    Bool,
    Choice,
    Float,
    Int,
    Ints,
)
from layerloom.nodes.spec import NodeSpec, Params, Shape


def _dense_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    require_min_rank(shape, 1, "Dense")
    require_known(shape[-1], "Dense's input feature size")
    return (*shape[:-1], params["units"])


def _dense_params(params: Params, shapes: list[Shape]) -> int:
    features = shapes[0][-1] or 0
    return features * params["units"] + (params["units"] if params["use_bias"] else 0)


def _embedding_shape(params: Params, shapes: list[Shape]) -> Shape:
    return (*shapes[0], params["output_dim"])


def _embedding_params(params: Params, shapes: list[Shape]) -> int:
    return params["input_dim"] * params["output_dim"]


SPECS = [
    NodeSpec(
        type_id="keras.layers.Dense",
        category="core",
        doc="Fully connected layer: output = activation(input @ kernel + bias) on the last axis.",
        params=(
            Int("units", 64, "Number of output features", min=1, max=MAX_WIDTH),
            Choice("activation", "linear", "Activation applied to the output", choices=ACTIVATIONS),
            Bool("use_bias", True, "Add a learned bias"),
        ),
        infer=_dense_shape,
        count_params=_dense_params,
        keras_class="Dense",
    ),
    NodeSpec(
        type_id="keras.layers.Activation",
        category="core",
        doc="Applies an activation function element-wise; the shape is unchanged.",
        params=(Choice("activation", "relu", "Activation function to apply", choices=ACTIVATIONS),),
        keras_class="Activation",
    ),
    NodeSpec(
        type_id="keras.layers.Dropout",
        category="core",
        doc="Randomly zeroes a fraction of the inputs while training; does nothing at inference.",
        params=(
            # A rate of 1 drops everything (and rescales by 1/0), so stop just short of it.
            Float("rate", 0.5, "Fraction of the inputs to drop", min=0.0, max=0.99),
            Ints(
                "noise_shape",
                None,
                "Shape of the drop mask, batch first; a size of 1 drops whole axes (empty = "
                "each value on its own)",
                optional=True,
                min=1,
                allow_none=True,
            ),
        ),
        keras_class="Dropout",
    ),
    NodeSpec(
        type_id="keras.layers.Embedding",
        category="core",
        doc="Looks up a learned vector for each integer token id; adds a last axis of output_dim.",
        params=(
            Int(
                "input_dim",
                1000,
                "Vocabulary size: token ids must lie in [0, input_dim)",
                min=1,
                max=MAX_VOCABULARY,
            ),
            Int("output_dim", 64, "Size of each embedding vector", min=1, max=MAX_WIDTH),
            Bool("mask_zero", False, "Treat id 0 as padding and mask it for later layers"),
        ),
        infer=_embedding_shape,
        count_params=_embedding_params,
        keras_class="Embedding",
    ),
]
