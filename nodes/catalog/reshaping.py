"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, UpSampling2D, ZeroPadding2D and
Cropping2D. None of them has weights; 2D layers take channels-last images (height, width, channels).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from layerloom.nodes.catalog._shapes import fmt, require_rank
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import MAX_WIDTH, Choice, Int, Ints
from layerloom.nodes.spec import NodeSpec, Params, Shape, ShapeRule

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def _known_size(shape: Shape) -> int | None:
    return None if None in shape else math.prod(shape)


def _flatten_shape(params: Params, shapes: list[Shape]) -> Shape:
    return (_known_size(shapes[0]),)


def _reshape_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    target = tuple(params["target_shape"])
    if any(d == 0 or d < -1 for d in target) or target.count(-1) > 1:
        raise ShapeError(
            f"Reshape expects target_shape sizes >= 1 and at most one -1, got {fmt(target)}"
        )
    size = _known_size(shape)
    if size is None:
        return tuple(None if d == -1 else d for d in target)
    known = math.prod(d for d in target if d != -1)
    fits = size % known == 0 if -1 in target else size == known
    if not fits:
        raise ShapeError(
            f"Reshape cannot turn {fmt(shape)} ({size} values) into target_shape {fmt(target)}"
        )
    return tuple(size // known if d == -1 else d for d in target)


def _permute_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    dims = tuple(params["dims"])
    if sorted(dims) != list(range(1, len(dims) + 1)):
        raise ShapeError(f"Permute expects dims to reorder 1..{len(dims)}, got {fmt(dims)}")
    require_rank(shape, len(dims), f"Permute with dims {fmt(dims)}")
    return tuple(shape[d - 1] for d in dims)


def _repeat_vector_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    require_rank(shape, 1, "RepeatVector")
    return (params["n"], shape[0])


def _scaled(dim: int | None, factor: int) -> int | None:
    return None if dim is None else dim * factor


def _upsampling_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    require_rank(shape, 3, "UpSampling2D")
    height, width = params["size"]
    return (_scaled(shape[0], height), _scaled(shape[1], width), shape[2])


def _edges_rule(key: str, sign: int, what: str) -> ShapeRule:
    """Shape rule for ZeroPadding2D (sign +1) and Cropping2D (sign -1) with (top, bottom, left,
    right) edges: each spatial axis grows or shrinks by the sum of its two edges."""

    def rule(params: Params, shapes: list[Shape]) -> Shape:
        (shape,) = shapes
        require_rank(shape, 3, what)
        top, bottom, left, right = params[key]
        spatial = []
        for dim, change, axis in (
            (shape[0], top + bottom, "height"),
            (shape[1], left + right, "width"),
        ):
            if dim is not None and dim + sign * change < 1:
                raise ShapeError(
                    f"{what} cannot remove {change} pixels from the {axis} of {fmt(shape)}: "
                    f"at least one must remain"
                )
            spatial.append(None if dim is None else dim + sign * change)
        return (*spatial, shape[2])

    return rule


def _edges_config(key: str) -> Callable[[Params], dict[str, Any]]:
    """Keras wants the four edges as ((top, bottom), (left, right))."""

    def config(params: Params) -> dict[str, Any]:
        top, bottom, left, right = params[key]
        return {key: [[top, bottom], [left, right]]}

    return config


SPECS = [
    NodeSpec(
        type_id="keras.layers.Flatten",
        category="reshaping",
        doc="Flattens each sample into a vector; the batch dimension is kept.",
        infer=_flatten_shape,
        keras_class="Flatten",
    ),
    NodeSpec(
        type_id="keras.layers.Reshape",
        category="reshaping",
        doc="Reshapes each sample to target_shape; the total number of values must not change.",
        params=(
            Ints(
                "target_shape",
                (-1,),
                "New shape without batch; one size may be -1 to infer it",
                min=-1,
            ),
        ),
        infer=_reshape_shape,
        keras_class="Reshape",
    ),
    NodeSpec(
        type_id="keras.layers.Permute",
        category="reshaping",
        doc="Reorders the axes of each sample, e.g. dims (2, 1) swaps the two axes.",
        params=(Ints("dims", (2, 1), "New order of the axes, numbered from 1 (no batch)", min=1),),
        infer=_permute_shape,
        keras_class="Permute",
    ),
    NodeSpec(
        type_id="keras.layers.RepeatVector",
        category="reshaping",
        doc="Repeats a feature vector n times, turning (features) into (n, features).",
        params=(Int("n", 2, "Number of repetitions", min=1, max=MAX_WIDTH),),
        infer=_repeat_vector_shape,
        keras_class="RepeatVector",
    ),
    NodeSpec(
        type_id="keras.layers.UpSampling2D",
        category="reshaping",
        doc="Enlarges an image (height, width, channels) by repeating or interpolating pixels.",
        params=(
            Ints("size", (2, 2), "Upsampling factors (height, width)", length=2, min=1),
            Choice(
                "interpolation", "nearest", "How new pixels are computed", choices=INTERPOLATIONS
            ),
        ),
        infer=_upsampling_shape,
        keras_class="UpSampling2D",
    ),
    NodeSpec(
        type_id="keras.layers.ZeroPadding2D",
        category="reshaping",
        doc="Adds rows and columns of zeros around an image (height, width, channels).",
        params=(
            Ints(
                "padding", (1, 1, 1, 1), "Zeros to add: (top, bottom, left, right)", length=4, min=0
            ),
        ),
        infer=_edges_rule("padding", 1, "ZeroPadding2D"),
        keras_class="ZeroPadding2D",
        keras_config=_edges_config("padding"),
    ),
    NodeSpec(
        type_id="keras.layers.Cropping2D",
        category="reshaping",
        doc="Removes rows and columns from the edges of an image (height, width, channels).",
        params=(
            Ints(
                "cropping",
                (1, 1, 1, 1),
                "Pixels to remove: (top, bottom, left, right)",
                length=4,
                min=0,
            ),
        ),
        infer=_edges_rule("cropping", -1, "Cropping2D"),
        keras_class="Cropping2D",
        keras_config=_edges_config("cropping"),
    ),
]
