"""Layers Keras' application models use that live outside ``keras.layers``: ConvNeXt's LayerScale.

They exist so that an imported application (``layerloom import --from keras.applications.NAME``)
maps every layer onto a node; the Keras class is named with its module (``nodes.keras_build``).
"""

from __future__ import annotations

from layerloom.nodes.catalog._shapes import fmt, require_min_rank
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import MAX_WIDTH, Float, Int
from layerloom.nodes.spec import NodeSpec, Params, Shape


def _layer_scale_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    require_min_rank(shape, 1, "LayerScale")
    if shape[-1] != params["projection_dim"]:
        raise ShapeError(
            f"LayerScale expects {params['projection_dim']} channels (projection_dim) on the last "
            f"axis, got {fmt(shape)}"
        )
    return shape


SPECS = [
    NodeSpec(
        type_id="keras.applications.convnext.LayerScale",
        category="core",
        doc="ConvNeXt's learned per-channel scale of a residual branch: x * gamma.",
        params=(
            Float("init_values", 1e-6, "Initial value of every channel's scale"),
            Int("projection_dim", 96, "Channels on the last axis", min=1, max=MAX_WIDTH),
        ),
        infer=_layer_scale_shape,
        count_params=lambda params, shapes: params["projection_dim"],
        keras_class="keras.src.applications.convnext.LayerScale",
    ),
]
