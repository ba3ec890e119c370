"""Attention layers: MultiHeadAttention.

For self-attention wire the same tensor into query and value; key defaults to value.
"""

from __future__ import annotations

from layerloom.nodes.catalog._shapes import fmt, require_known
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import MAX_WIDTH, Bool, Float, Int
from layerloom.nodes.spec import NodeSpec, Params, Port, Shape


def _mha_shapes(shapes: list[Shape]) -> tuple[Shape, Shape, Shape]:
    query, value, *rest = shapes
    return query, value, rest[0] if rest else value


def _mha_shape(params: Params, shapes: list[Shape]) -> Shape:
    query, value, key = _mha_shapes(shapes)
    # Keras only checks value against key when building; the ranks below fail once it runs.
    if len(query) < 2:
        raise ShapeError(
            f"MultiHeadAttention expects a query sequence (time, features) without batch, "
            f"got {fmt(query)}"
        )
    if len(value) != len(query):
        raise ShapeError(
            f"MultiHeadAttention expects value of the same rank as query {fmt(query)}, "
            f"got {fmt(value)}"
        )
    if key[:-1] != value[:-1]:
        raise ShapeError(
            f"MultiHeadAttention expects key {fmt(key)} to match value {fmt(value)} "
            "on every axis but the last"
        )
    for name, shape in (("query", query), ("value", value), ("key", key)):
        require_known(shape[-1], f"MultiHeadAttention's {name} feature size (last axis)")
    return query


def _mha_params(params: Params, shapes: list[Shape]) -> int:
    query, value, key = (shape[-1] or 0 for shape in _mha_shapes(shapes))
    heads, bias = params["num_heads"], int(params["use_bias"])
    key_width = heads * params["key_dim"]
    value_width = heads * (params["value_dim"] or params["key_dim"])
    projections = (query + bias) * key_width + (key + bias) * key_width
    projections += (value + bias) * value_width
    output = value_width * query + bias * query  # projects back to the query's feature size
    return projections + output


SPECS = [
    NodeSpec(
        type_id="keras.layers.MultiHeadAttention",
        category="attention",
        doc="Multi-head attention of query over key/value; the output has the query's shape.",
        params=(
            Int("num_heads", 4, "Number of attention heads", min=1, max=MAX_WIDTH),
            Int(
                "key_dim", 64, "Size of each head's query and key projection", min=1, max=MAX_WIDTH
            ),
            Int(
                "value_dim",
                None,
                "Size of each head's value projection; empty = key_dim",
                optional=True,
                min=1,
                max=MAX_WIDTH,
            ),
            Float(
                "dropout",
                0.0,
                "Fraction of attention weights to drop while training",
                min=0.0,
                max=0.99,
            ),
            Bool("use_bias", True, "Add biases to the projections"),
        ),
        inputs=(
            Port("query", "Sequence that attends (time, features)"),
            Port("value", "Sequence attended to (time, features)"),
            Port("key", "Keys for value; unconnected = value itself", optional=True),
        ),
        infer=_mha_shape,
        count_params=_mha_params,
        keras_class="MultiHeadAttention",
        call="kwargs",
    ),
]
