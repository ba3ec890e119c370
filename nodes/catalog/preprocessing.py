"""Preprocessing layers: Rescaling and Normalization for any features; Resizing, CenterCrop and the
random augmentations for channels-last images (height, width, channels). Augmentations act only
while training and keep the shape; only Normalization has weights (statistics set by adapt()).
"""

from __future__ import annotations

import math

from layerloom.nodes.catalog._shapes import fmt, keras_axis
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import MAX_IMAGE_SIDE, Bool, Choice, Float, Floats, Int, Ints, Param
from layerloom.nodes.spec import NodeSpec, Params, Shape, ShapeRule

INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
FILL_MODE = Choice(
    "fill_mode", "reflect", "How pixels outside the image are filled", choices=FILL_MODES
)


def _require_image(shape: Shape, what: str) -> None:
    # Keras also builds on other ranks but then treats the batch as an image axis (or fails when
    # it runs), so only (height, width, channels) is a sound input.
    if len(shape) != 3:
        raise ShapeError(
            f"{what} expects an image (height, width, channels) without batch, got {fmt(shape)}"
        )


def _image_rule(what: str) -> ShapeRule:
    def infer(params: Params, shapes: list[Shape]) -> Shape:
        _require_image(shapes[0], what)
        return shapes[0]

    return infer


def _resized_rule(what: str) -> ShapeRule:
    def infer(params: Params, shapes: list[Shape]) -> Shape:
        (shape,) = shapes
        _require_image(shape, what)
        return (params["height"], params["width"], shape[2])

    return infer


def _normalization_kept(params: Params, shape: Shape) -> Shape:
    """Sizes of the axes that get their own mean and variance (none when axis is empty)."""
    indices = [keras_axis(axis, shape, "Normalization") for axis in params["axis"] or ()]
    if len(set(indices)) != len(indices):
        raise ShapeError(f"Normalization expects distinct axes, got {tuple(params['axis'])}")
    kept = tuple(shape[i] for i in sorted(indices))
    if None in kept:
        raise ShapeError(
            f"Normalization expects known sizes on axis {tuple(params['axis'])}, got {fmt(shape)}"
        )
    return kept


def _normalization_shape(params: Params, shapes: list[Shape]) -> Shape:
    kept = _normalization_kept(params, shapes[0])
    fixed = [params[key] for key in ("mean", "variance")]
    if (fixed[0] is None) != (fixed[1] is None):
        raise ShapeError("Normalization expects both mean and variance, or neither")
    for key, values in zip(("mean", "variance"), fixed, strict=True):
        # Keras broadcasts one value, or one per kept position.
        if values is not None and len(values) not in (1, math.prod(kept)):
            raise ShapeError(
                f"Normalization expects {key} with 1 or {math.prod(kept)} values for axis "
                f"{tuple(params['axis'] or ())} of {fmt(shapes[0])}, got {len(values)}"
            )
    return shapes[0]


def _normalization_params(params: Params, shapes: list[Shape]) -> int:
    if params["mean"] is not None:
        return 0  # fixed statistics are constants, not weights
    # Mean and variance per kept position, plus the scalar sample count adapt() keeps.
    return 2 * math.prod(_normalization_kept(params, shapes[0])) + 1


def _augmentation(name: str, doc: str, *params: Param) -> NodeSpec:
    return NodeSpec(
        type_id=f"keras.layers.{name}",
        category="preprocessing",
        doc=doc,
        params=params,
        infer=_image_rule(name),
        keras_class=name,
    )


def _size_params(what: str) -> tuple[Int, Int]:
    return (
        Int("height", 224, f"Height of the {what} image", min=1, max=MAX_IMAGE_SIDE),
        Int("width", 224, f"Width of the {what} image", min=1, max=MAX_IMAGE_SIDE),
    )


SPECS = [
    NodeSpec(
        type_id="keras.layers.Rescaling",
        category="preprocessing",
        doc="Multiplies by scale and adds offset, e.g. scale 1/255 maps pixels to [0, 1].",
        params=(
            Float("scale", 1 / 255, "Factor the inputs are multiplied by"),
            Float("offset", 0.0, "Value added after scaling"),
        ),
        keras_class="Rescaling",
    ),
    NodeSpec(
        type_id="keras.layers.Normalization",
        category="preprocessing",
        doc="Shifts and scales features to mean 0, variance 1 using statistics from adapt().",
        params=(
            Ints(
                "axis",
                (-1,),
                "Axes with their own statistics (-1 = per feature); empty = one for everything",
                optional=True,
            ),
            # Fixed statistics (ImageNet's, in Keras' applications) instead of adapt()'s.
            Floats("mean", None, "Fixed mean per kept position; empty = adapt()", optional=True),
            Floats(
                "variance", None, "Fixed variance per kept position; empty = adapt()", optional=True
            ),
            Bool("invert", False, "Undo the normalization instead (x * std + mean)"),
        ),
        infer=_normalization_shape,
        count_params=_normalization_params,
        keras_class="Normalization",
    ),
    NodeSpec(
        type_id="keras.layers.Resizing",
        category="preprocessing",
        doc="Resizes images to a fixed height and width.",
        params=(
            *_size_params("resized"),
            Choice("interpolation", "bilinear", "Resampling method", choices=INTERPOLATIONS),
            Bool(
                "crop_to_aspect_ratio",
                False,
                "Crop to the target aspect ratio instead of stretching",
            ),
        ),
        infer=_resized_rule("Resizing"),
        keras_class="Resizing",
    ),
    NodeSpec(
        type_id="keras.layers.CenterCrop",
        category="preprocessing",
        doc="Crops the central height x width region of images (resizing up smaller ones).",
        params=_size_params("cropped"),
        infer=_resized_rule("CenterCrop"),
        keras_class="CenterCrop",
    ),
    _augmentation(
        "RandomFlip",
        "Randomly flips images while training.",
        Choice(
            "mode",
            "horizontal_and_vertical",
            "Which flips to apply",
            choices=("horizontal", "vertical", "horizontal_and_vertical"),
        ),
    ),
    _augmentation(
        "RandomRotation",
        "Randomly rotates images while training.",
        Float("factor", 0.1, "Largest rotation as a fraction of a full turn", min=0.0, max=1.0),
        FILL_MODE,
    ),
    _augmentation(
        "RandomZoom",
        "Randomly zooms images in or out while training.",
        # A factor of 1 allows zooming down to nothing, so stop just short of it.
        Float(
            "height_factor",
            0.1,
            "Largest vertical zoom as a fraction of the height",
            min=0.0,
            max=0.99,
        ),
        Float(
            "width_factor",
            None,
            "Largest horizontal zoom; empty = keep the aspect ratio",
            optional=True,
            min=0.0,
            max=0.99,
        ),
        FILL_MODE,
    ),
    _augmentation(
        "RandomTranslation",
        "Randomly shifts images while training.",
        Float(
            "height_factor",
            0.1,
            "Largest vertical shift as a fraction of the height",
            min=0.0,
            max=1.0,
        ),
        Float(
            "width_factor",
            0.1,
            "Largest horizontal shift as a fraction of the width",
            min=0.0,
            max=1.0,
        ),
        FILL_MODE,
    ),
    _augmentation(
        "RandomContrast",
        "Randomly changes image contrast while training.",
        Float("factor", 0.2, "Largest contrast change as a fraction", min=0.0, max=1.0),
    ),
]
