"""What the browser target (TF.js) cannot take, declared for the editor and the export alike.

Plain Python, no TensorFlow: the editor's badges read it through ``nodes.export_capabilities``
(entry point ``layerloom.export_limits``), and the TF.js converter (``tfjs_layers``, ``tfjs``) applies
the same activation and padding-mask rules, so the badge and the export say the same thing.
Every limit was found by converting every spec's cases and running them in ``@tensorflow/tfjs``
(``tests/exporters/test_capabilities.py`` keeps it so). Most gaps are closed in the converter
instead (``tfjs_rebuilt`` rebuilds MultiHeadAttention, Normalization and resizing from layers
TF.js has); this lists what is left.
"""

from __future__ import annotations

from collections.abc import Sequence

from layerloom.nodes.export_capabilities import (
    GraphRule,
    GraphStep,
    LimitKey,
    Params,
    TargetLimits,
)
from layerloom.nodes.spec import Shape

# Activations tfjs-layers 4.22 has with Keras 3's meaning (after the silu -> swish rename).
TFJS_ACTIVATIONS = frozenset(
    {
        "linear",
        "relu",
        "relu6",
        "sigmoid",
        "tanh",
        "softmax",
        "gelu",
        "swish",
        "elu",
        "selu",
        "softplus",
        "softsign",
        "mish",
    }
)
RENAMED_ACTIVATIONS = {"silu": "swish"}
# Rebuilt from other layers after a linear activation; recurrent cells cannot do that.
REBUILT_ACTIVATIONS = frozenset({"leaky_relu", "hard_sigmoid"})


def activation_problem(name: str, recurrent: bool = False) -> str | None:
    """Why TF.js cannot run the Keras activation ``name`` (None when it can)."""
    name = RENAMED_ACTIVATIONS.get(name, name)
    if name in TFJS_ACTIVATIONS:
        return None
    if recurrent:
        if name == "hard_sigmoid":
            return "TF.js' hard_sigmoid is Keras 2's (0.2 x + 0.5), not Keras 3's"
        return f"TF.js has no '{name}' activation inside recurrent cells"
    if name in REBUILT_ACTIVATIONS:
        return None
    return f"TF.js has no '{name}' activation"


def _activation(params: Params, shapes: list[Shape]) -> str | None:
    name = params.get("activation")
    return activation_problem(name) if isinstance(name, str) else None


def _recurrent(params: Params, shapes: list[Shape]) -> str | None:
    name = params.get("activation")
    return activation_problem(name, recurrent=True) if isinstance(name, str) else None


def _gru(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("reset_after", True):
        return "TF.js' GRU cell has no reset_after=True (Keras' default); turn reset_after off"
    return _recurrent(params, shapes)


def _bidirectional(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("layer") == "GRU":
        return "TF.js' GRU cell has no reset_after=True, which a wrapped GRU always uses"
    return _recurrent(params, shapes)


def _relu_combination(params: Params, shapes: list[Shape]) -> str | None:
    active = [
        params.get("max_value") is not None,
        bool(params.get("negative_slope")),
        bool(params.get("threshold")),
    ]
    if sum(active) > 1:
        return "TF.js' ReLU takes one of max_value, negative_slope and threshold, not several"
    return None


def _axes(value: object) -> list[int]:
    return list(value) if isinstance(value, (list, tuple)) else [int(value or 1)]


def convolution_problem(params: Params, shapes: list[Shape] | None = None) -> str | None:
    """What TF.js' convolutions cannot do (every convolution node type, rebuilt ones included)."""
    if int(params.get("groups", 1) or 1) != 1:
        return "TF.js convolutions have no groups"
    strided = any(s > 1 for s in _axes(params.get("strides", 1)))
    dilated = any(d > 1 for d in _axes(params.get("dilation_rate", 1)))
    if strided and dilated:
        return "TF.js convolutions cannot combine strides > 1 with dilation_rate > 1"
    return None


def _convolution(params: Params, shapes: list[Shape]) -> str | None:
    return convolution_problem(params) or _activation(params, shapes)


def _conv_transpose(params: Params, shapes: list[Shape]) -> str | None:
    return output_padding_problem(params, shapes) or _convolution(params, shapes)


def _prelu(params: Params, shapes: list[Shape]) -> str | None:
    if shapes and not shapes[0]:
        return "TF.js' PReLU needs at least one feature axis"
    return None


def output_padding_problem(params: Params, shapes: list[Shape]) -> str | None:
    """TF.js' Conv2DTranspose has no output_padding: fine only where it gives the default size
    (Keras' deconv_output_length with and without it)."""
    padding = params.get("output_padding")
    if padding is None or not shapes:
        return None
    kernels, strides = params.get("kernel_size", ()), params.get("strides", ())
    same = params.get("padding") == "same"
    for size, kernel, stride, extra in zip(shapes[0][:-1], kernels, strides, padding, strict=False):
        if size is None:
            continue
        default = size * stride + (0 if same else max(kernel - stride, 0))
        given = (size - 1) * stride + kernel - 2 * (kernel // 2 if same else 0) + extra
        if given != default:
            return "TF.js' Conv2DTranspose has no output_padding"
    return None


def _dot_rank(params: Params, shapes: list[Shape]) -> str | None:
    if any(len(shape) > 2 for shape in shapes):
        return "TF.js' Dot takes inputs of at most two axes besides the batch"
    return None


def _known_image_size(params: Params, shapes: list[Shape]) -> str | None:
    if shapes and len(shapes[0]) >= 2 and (shapes[0][0] is None or shapes[0][1] is None):
        return "TF.js resizing is rebuilt only for a known image size"
    return None


def _upsampling(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("interpolation", "nearest") == "nearest":
        return None
    return _known_image_size(params, shapes)


# Padding masks (Embedding mask_zero=True): TF.js applies them like Keras in unidirectional
# recurrent layers and drops them where Keras does too; elsewhere (GlobalAveragePooling1D,
# Bidirectional, attention) it ignores or misapplies them. Whether a node is refused depends on
# what lies upstream of it, so this is a rule over the graph, not a node's limit.
MASK_CONSUMERS = {"LSTM", "GRU", "SimpleRNN"}
MASK_DROPPERS = {"Flatten", "GlobalMaxPooling1D", "GlobalMaxPooling2D"}
MASK_CARRIERS = {"Dense", "Dropout", "Activation", "ReLU", "LeakyReLU", "LayerNormalization"}


def mask_reason(embedding_name: str) -> str:
    return (
        f"TF.js does not apply the padding mask of '{embedding_name}' (Embedding mask_zero=True) "
        "here as Keras does"
    )


def _masks(kind: str, params: Params) -> bool:
    return kind == "Embedding" and bool(params.get("mask_zero"))


def unfaithful_masks(steps: Sequence[GraphStep]) -> list[tuple[str, str]]:
    """(reader key, reason) for every step whose padding mask TF.js would mishandle."""
    readers: dict[str, list[GraphStep]] = {}
    for step in steps:
        for source in step.sources:
            readers.setdefault(source, []).append(step)
    found: list[tuple[str, str]] = []
    for embedding in steps:
        if not _masks(embedding.kind, embedding.params):
            continue
        masked, seen = [embedding.key], set()
        while masked:
            for reader in readers.get(masked.pop(), []):
                if reader.key in seen:
                    continue
                seen.add(reader.key)
                sequences = bool(reader.params.get("return_sequences"))
                if reader.kind in MASK_DROPPERS or (
                    reader.kind in MASK_CONSUMERS and not sequences
                ):
                    continue
                if reader.kind in MASK_CONSUMERS or reader.kind in MASK_CARRIERS:
                    masked.append(reader.key)
                else:
                    found.append((reader.key, mask_reason(embedding.name)))
    return found


PADDING_MASKS = GraphRule(find=unfaithful_masks, triggers=_masks)

# Every layer with an ``activation`` setting: TF.js has no 'exponential' (and rebuilds a few others).
_ACTIVATED = ("Dense", "Activation")
_CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv3D", "SeparableConv2D", "DepthwiseConv2D")

NODE_LIMITS = {
    **{f"keras.layers.{name}": _activation for name in _ACTIVATED},
    **{f"keras.layers.{name}": _convolution for name in _CONVOLUTIONS},
    "keras.layers.Conv2DTranspose": _conv_transpose,
    "keras.layers.LSTM": _recurrent,
    "keras.layers.SimpleRNN": _recurrent,
    "keras.layers.GRU": _gru,
    "keras.layers.Bidirectional": _bidirectional,
    "keras.layers.ReLU": _relu_combination,
    "keras.layers.PReLU": _prelu,
    "keras.layers.Dot": _dot_rank,
    "keras.layers.Resizing": _known_image_size,
    "keras.layers.CenterCrop": _known_image_size,
    "keras.layers.UpSampling2D": _upsampling,
}

LIMITS = TargetLimits(
    "tfjs",
    (LimitKey("tfjs", "TF.js", "JS", NODE_LIMITS, (PADDING_MASKS,)),),
    rank=2,
)
