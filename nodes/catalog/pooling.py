"""Pooling layers: Max/Average pooling in 1D and 2D, and their global variants.

Inputs are channels-last: (spatial..., channels) without the batch dimension. No weights.
"""

from __future__ import annotations

from layerloom.nodes.catalog._shapes import require_rank, window_output
from layerloom.nodes.params import Bool, Choice, Ints
from layerloom.nodes.spec import NodeSpec, Params, Shape, ShapeRule

LAYOUTS = {1: "a sequence (steps, channels)", 2: "an image (height, width, channels)"}
REDUCTIONS = {"Max": "maximum", "Average": "mean"}


def _pooling_rule(rank: int, what: str) -> ShapeRule:
    def rule(params: Params, shapes: list[Shape]) -> Shape:
        (shape,) = shapes
        require_rank(shape, rank + 1, what)
        window = params["pool_size"]
        strides = params["strides"] or window
        spatial = window_output(shape[:-1], window, strides, params["padding"], what)
        return (*spatial, shape[-1])

    return rule


def _global_rule(rank: int, what: str) -> ShapeRule:
    def rule(params: Params, shapes: list[Shape]) -> Shape:
        (shape,) = shapes
        require_rank(shape, rank + 1, what)
        return (*(1,) * rank, shape[-1]) if params["keepdims"] else (shape[-1],)

    return rule


def _pooling_spec(kind: str, rank: int) -> NodeSpec:
    name = f"{kind}Pooling{rank}D"
    return NodeSpec(
        type_id=f"keras.layers.{name}",
        category="pooling",
        doc=f"Downsamples {LAYOUTS[rank]} by the {REDUCTIONS[kind]} of each window, per channel.",
        params=(
            Ints("pool_size", (2,) * rank, "Window size per spatial axis", length=rank, min=1),
            Ints(
                "strides",
                None,
                "Step between windows per spatial axis; empty = pool_size",
                optional=True,
                length=rank,
                min=1,
            ),
            Choice(
                "padding",
                "valid",
                "valid: drop windows that overrun the edge; same: pad so all fit",
                choices=("valid", "same"),
            ),
        ),
        infer=_pooling_rule(rank, name),
        keras_class=name,
    )


def _global_spec(kind: str, rank: int) -> NodeSpec:
    name = f"Global{kind}Pooling{rank}D"
    return NodeSpec(
        type_id=f"keras.layers.{name}",
        category="pooling",
        doc=f"Reduces {LAYOUTS[rank]} to one {REDUCTIONS[kind]} per channel.",
        params=(Bool("keepdims", False, "Keep the spatial axes, each of size 1"),),
        infer=_global_rule(rank, name),
        keras_class=name,
    )


SPECS = [_pooling_spec(kind, rank) for kind in ("Max", "Average") for rank in (1, 2)] + [
    _global_spec(kind, rank) for kind in ("Average", "Max") for rank in (1, 2)
]
