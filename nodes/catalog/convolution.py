"""Convolution layers: Conv1D/2D/3D, Conv2DTranspose, SeparableConv2D, DepthwiseConv2D.

Inputs are channels-last: (spatial..., channels) without the batch dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from layerloom.nodes.catalog._shapes import fmt, require_known, require_rank, window_output
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import ACTIVATIONS, MAX_WIDTH, Bool, Choice, Int, Ints, Param
from layerloom.nodes.spec import NodeSpec, Params, Shape, ShapeRule

PADDINGS = ("valid", "same")
CAUSAL_PADDINGS = ("valid", "same", "causal")

LAYOUTS = {
    1: "a sequence (steps, channels)",
    2: "an image (height, width, channels)",
    3: "a volume (depth, height, width, channels)",
}

OutChannels = Callable[[Params, int], int]


def _window_params(rank: int, paddings: tuple[str, ...] = PADDINGS) -> tuple[Param, ...]:
    return (
        Ints("kernel_size", (3,) * rank, "Window size per spatial axis", length=rank, min=1),
        Ints("strides", (1,) * rank, "Step between windows per spatial axis", length=rank, min=1),
        Choice(
            "padding",
            "valid",
            "valid: no padding (output shrinks); same: pad so output = ceil(input / strides)",
            choices=paddings,
        ),
    )


def _dilation_param(rank: int) -> Param:
    return Ints(
        "dilation_rate", (1,) * rank, "Gap between kernel taps (atrous)", length=rank, min=1
    )


FILTERS = Int("filters", 32, "Number of output channels", min=1, max=MAX_WIDTH)
DEPTH_MULTIPLIER = Int(
    "depth_multiplier",
    1,
    "Output channels per input channel in the depthwise step",
    min=1,
    max=MAX_WIDTH,
)
OUTPUT_PARAMS = (
    Choice("activation", "linear", "Activation applied to the output", choices=ACTIVATIONS),
    Bool("use_bias", True, "Add a learned bias per output channel"),
)


GROUPS = Int(
    "groups",
    1,
    "Channel groups convolved separately; filters and input channels must divide by it "
    "(input channels = groups is a depthwise convolution, as in ConvNeXt)",
    min=1,
    max=MAX_WIDTH,
)


def _input_channels(shape: Shape, rank: int, what: str) -> int:
    require_rank(shape, rank + 1, what)
    return require_known(shape[-1], f"{what}'s input channel count (it sizes the kernel)")


def _filters(params: Params, channels: int) -> int:
    return params["filters"]


def _grouped_filters(what: str) -> OutChannels:
    def out(params: Params, channels: int) -> int:
        groups = params["groups"]
        if channels % groups or params["filters"] % groups:
            raise ShapeError(
                f"{what} expects input channels and filters divisible by groups {groups}, got "
                f"{channels} input channels and {params['filters']} filters"
            )
        return params["filters"]

    return out


def _depthwise_channels(params: Params, channels: int) -> int:
    return channels * params["depth_multiplier"]


def _sliding_rule(
    rank: int, what: str, out_channels: OutChannels, strided_dilation: bool = False
) -> ShapeRule:
    """Shape rule for a kernel sliding over ``rank`` spatial axes, channels last.

    ``strided_dilation``: whether the layer accepts strides > 1 together with dilation > 1 (plain
    Conv refuses the pair; the depthwise and separable layers accept it).
    """

    def rule(params: Params, shapes: list[Shape]) -> Shape:
        (shape,) = shapes
        channels = _input_channels(shape, rank, what)
        strides, dilation = params["strides"], params["dilation_rate"]
        if not strided_dilation and max(strides) > 1 and max(dilation) > 1:
            raise ShapeError(
                f"{what} cannot combine strides > 1 with dilation_rate > 1, "
                f"got strides {fmt(strides)} and dilation_rate {fmt(dilation)}"
            )
        # Causal padding puts all of 'same''s padding before the sequence: same output length.
        padding = "same" if params["padding"] == "causal" else params["padding"]
        spatial = window_output(shape[:-1], params["kernel_size"], strides, padding, what, dilation)
        return (*spatial, out_channels(params, channels))

    return rule


def _channels_in(shapes: list[Shape]) -> int:
    return shapes[0][-1] or 0


def _bias(params: Params, size: int) -> int:
    return size if params["use_bias"] else 0


def _conv_params(params: Params, shapes: list[Shape]) -> int:
    per_group = _channels_in(shapes) // params.get("groups", 1)
    kernel = math.prod(params["kernel_size"]) * per_group * params["filters"]
    return kernel + _bias(params, params["filters"])


def _separable_params(params: Params, shapes: list[Shape]) -> int:
    depthwise = _channels_in(shapes) * params["depth_multiplier"]
    pointwise = depthwise * params["filters"]
    return (
        math.prod(params["kernel_size"]) * depthwise + pointwise + _bias(params, params["filters"])
    )


def _depthwise_params(params: Params, shapes: list[Shape]) -> int:
    outputs = _channels_in(shapes) * params["depth_multiplier"]
    return math.prod(params["kernel_size"]) * outputs + _bias(params, outputs)


def _transposed_length(
    length: int | None, kernel: int, stride: int, padding: str, output_padding: int | None
) -> int | None:
    """Output length of a transposed convolution along one axis (Keras' formula)."""
    if length is None:
        return None
    if output_padding is None:
        grow = 0 if padding == "same" else max(kernel - stride, 0)
        return length * stride + grow
    return (length - 1) * stride + output_padding + (kernel % 2 if padding == "same" else kernel)


def _conv_transpose_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    _input_channels(shape, 2, "Conv2DTranspose")
    strides = params["strides"]
    output_padding = params["output_padding"]
    if output_padding is not None and any(
        o >= s for o, s in zip(output_padding, strides, strict=True)
    ):
        raise ShapeError(
            "Conv2DTranspose expects each output_padding value below its stride, "
            f"got output_padding {fmt(output_padding)} and strides {fmt(strides)}"
        )
    extras = output_padding or (None,) * len(strides)
    axes = zip(shape[:-1], params["kernel_size"], strides, extras, strict=True)
    spatial = tuple(_transposed_length(n, k, s, params["padding"], o) for n, k, s, o in axes)
    if any(d is not None and d < 1 for d in spatial):
        raise ShapeError(f"Conv2DTranspose would produce an empty output {fmt(spatial)}")
    return (*spatial, params["filters"])


def _conv_spec(rank: int) -> NodeSpec:
    name = f"Conv{rank}D"
    return NodeSpec(
        type_id=f"keras.layers.{name}",
        category="convolution",
        doc=f"{rank}D convolution: slides learned filters over {LAYOUTS[rank]}.",
        params=(
            FILTERS,
            *_window_params(rank, CAUSAL_PADDINGS if rank == 1 else PADDINGS),
            _dilation_param(rank),
            GROUPS,
            *OUTPUT_PARAMS,
        ),
        infer=_sliding_rule(rank, name, _grouped_filters(name)),
        count_params=_conv_params,
        keras_class=name,
    )


SPECS = [
    _conv_spec(1),
    _conv_spec(2),
    _conv_spec(3),
    NodeSpec(
        type_id="keras.layers.Conv2DTranspose",
        category="convolution",
        doc="Transposed 2D convolution (deconvolution): learned upsampling of an image.",
        params=(
            FILTERS,
            *_window_params(2),
            Ints(
                "output_padding",
                None,
                "Extra rows/columns on the output's far edge; each must be below its stride",
                optional=True,
                length=2,
                min=0,
            ),
            *OUTPUT_PARAMS,
        ),
        infer=_conv_transpose_shape,
        count_params=_conv_params,
        keras_class="Conv2DTranspose",
    ),
    NodeSpec(
        type_id="keras.layers.SeparableConv2D",
        category="convolution",
        doc="Depthwise 2D convolution per channel followed by a 1x1 convolution mixing channels.",
        params=(
            FILTERS,
            *_window_params(2),
            _dilation_param(2),
            DEPTH_MULTIPLIER,
            *OUTPUT_PARAMS,
        ),
        infer=_sliding_rule(2, "SeparableConv2D", _filters, strided_dilation=True),
        count_params=_separable_params,
        keras_class="SeparableConv2D",
    ),
    NodeSpec(
        type_id="keras.layers.DepthwiseConv2D",
        category="convolution",
        doc="2D convolution applied to each input channel separately (no channel mixing).",
        params=(
            *_window_params(2),
            DEPTH_MULTIPLIER,
            _dilation_param(2),
            *OUTPUT_PARAMS,
        ),
        infer=_sliding_rule(2, "DepthwiseConv2D", _depthwise_channels, strided_dilation=True),
        count_params=_depthwise_params,
        keras_class="DepthwiseConv2D",
    ),
]
