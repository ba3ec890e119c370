"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization.

All three normalize over the last (channels/features) axis, keep the input shape, and learn one
scale (gamma) and one offset (beta) per channel.
"""

from __future__ import annotations

from layerloom.nodes.catalog._shapes import fmt, require_known, require_min_rank
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import MAX_WIDTH, Bool, Float, Int
from layerloom.nodes.spec import NodeSpec, ParamCounter, Params, Shape, ShapeRule

EPSILON = Float(
    "epsilon",
    1e-3,
    "Small constant added to the variance to avoid dividing by zero",
    min=1e-12,
    max=1.0,
)
CENTER = Bool("center", True, "Learn an offset (beta) per channel")
SCALE = Bool("scale", True, "Learn a scale (gamma) per channel")


def _channels(shape: Shape, what: str) -> int:
    require_min_rank(shape, 1, what)
    return require_known(shape[-1], f"{what}'s input channel count (last axis)")


def _channels_rule(what: str) -> ShapeRule:
    def infer(params: Params, shapes: list[Shape]) -> Shape:
        _channels(shapes[0], what)
        return shapes[0]

    return infer


def _per_channel_counter(statistics: int) -> ParamCounter:
    """gamma and beta per channel, plus ``statistics`` non-trainable vectors (moving averages)."""

    def count(params: Params, shapes: list[Shape]) -> int:
        vectors = statistics + int(params["center"]) + int(params["scale"])
        return vectors * (shapes[0][-1] or 0)

    return count


def _group_norm_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    channels = _channels(shape, "GroupNormalization")
    groups = params["groups"]
    if groups > channels or channels % groups:
        raise ShapeError(
            f"GroupNormalization expects a channel count divisible into {groups} groups, "
            f"got {channels} channels in {fmt(shape)}"
        )
    return shape


SPECS = [
    NodeSpec(
        type_id="keras.layers.BatchNormalization",
        category="normalization",
        doc="Normalizes each channel with batch statistics while training, moving averages after.",
        params=(
            Float(
                "momentum", 0.99, "Weight of the old value in the moving averages", min=0.0, max=1.0
            ),
            EPSILON,
            CENTER,
            SCALE,
        ),
        infer=_channels_rule("BatchNormalization"),
        # Keras counts the moving mean and variance too (non-trainable weights).
        count_params=_per_channel_counter(statistics=2),
        keras_class="BatchNormalization",
    ),
    NodeSpec(
        type_id="keras.layers.LayerNormalization",
        category="normalization",
        doc="Normalizes each sample over its last axis (mean 0, variance 1), then scales and shifts.",
        params=(EPSILON, CENTER, SCALE),
        infer=_channels_rule("LayerNormalization"),
        count_params=_per_channel_counter(statistics=0),
        keras_class="LayerNormalization",
    ),
    NodeSpec(
        type_id="keras.layers.GroupNormalization",
        category="normalization",
        doc="Normalizes each sample over groups of channels; independent of the batch size.",
        params=(
            Int(
                "groups",
                32,
                "Number of channel groups; equal to the channels = instance norm",
                min=1,
                max=MAX_WIDTH,
            ),
            EPSILON,
            CENTER,
            SCALE,
        ),
        infer=_group_norm_shape,
        count_params=_per_channel_counter(statistics=0),
        keras_class="GroupNormalization",
    ),
]
