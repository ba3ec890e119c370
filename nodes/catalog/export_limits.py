"""What each layer type cannot take to which export target: one table, applied to every family.

Every limit here was found by converting every spec's test cases (``tests/exporters/harness.py``
coverage models) with the real converters and running the result in the real runtime. A limit is a
fixed reason or a rule over the node's params and input shapes; ``nodes.export_support`` evaluates
them for the editor's badges and for the export's up-front refusal. Keys: ``TARGET_KEYS``.

Most gaps are closed in the exporters instead (TF.js rebuilds MultiHeadAttention, Normalization and
resizing from layers it has; TF Lite unrolls recurrent layers), so this table lists what is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from layerloom.nodes.spec import ExportLimit, NodeSpec, Params, Shape

_TFJS_RECURRENT_ACTIVATIONS = ("leaky_relu", "hard_sigmoid", "exponential")


def _exponential(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("activation") == "exponential":
        return "TF.js has no 'exponential' activation"
    return None


def _recurrent_activation(params: Params, shapes: list[Shape]) -> str | None:
    name = params.get("activation")
    if name in _TFJS_RECURRENT_ACTIVATIONS:
        return f"TF.js has no '{name}' activation inside recurrent cells"
    return None


def _gru_reset_after(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("reset_after", True):
        return "TF.js' GRU cell has no reset_after=True (Keras' default); turn reset_after off"
    return _recurrent_activation(params, shapes)


def _bidirectional(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("layer") == "GRU":
        return "TF.js' GRU cell has no reset_after=True, which a wrapped GRU always uses"
    return _recurrent_activation(params, shapes)


def _relu_combination(params: Params, shapes: list[Shape]) -> str | None:
    active = [
        params.get("max_value") is not None,
        bool(params.get("negative_slope")),
        bool(params.get("threshold")),
    ]
    if sum(active) > 1:
        return "TF.js' ReLU takes one of max_value, negative_slope and threshold, not several"
    return None


def _output_padding(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("output_padding") is not None:
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


def _fixed_sequence(params: Params, shapes: list[Shape]) -> str | None:
    if shapes and shapes[0] and shapes[0][0] is None:
        return (
            "TF Lite runs recurrent layers unrolled, which needs a fixed sequence length; "
            "set the time steps of the Input"
        )
    return None


_TFLITE_RESIZE_OPS = ("bicubic", "area", "lanczos3", "lanczos5")


def _tflite_resizing(params: Params, shapes: list[Shape]) -> str | None:
    method = params.get("interpolation", "bilinear")
    if method in _TFLITE_RESIZE_OPS:
        return f"TF Lite has no built-in op for {method} resizing; use bilinear or nearest"
    return None


def _tflite_upsampling(params: Params, shapes: list[Shape]) -> str | None:
    method = params.get("interpolation", "nearest")
    if method in _TFLITE_RESIZE_OPS:
        return f"TF Lite has no built-in op for {method} resizing; use bilinear or nearest"
    return None


def _tflite_conv3d_dilation(params: Params, shapes: list[Shape]) -> str | None:
    if any(d > 1 for d in params.get("dilation_rate", (1,))):
        return "TF Lite has no built-in op for dilated 3D convolution (SpaceToBatchND)"
    return None


# int8: these convert but the converter's quantisation gives wrong numbers (measured: errors of
# 9-100 % of the output range, the same with the reference kernels).
def _int8_bidirectional(params: Params, shapes: list[Shape]) -> str | None:
    if (
        params.get("layer") in ("LSTM", "GRU")
        and params.get("merge_mode") == "concat"
        and params.get("return_sequences")
    ):
        return "int8 quantisation breaks the backward half of a concatenated sequence output"
    return None


def _int8_attention(params: Params, shapes: list[Shape]) -> str | None:
    if shapes and len(shapes[0]) > 2:
        return "int8 quantisation of attention over several axes gives wrong results"
    return None


def _int8_group_norm(params: Params, shapes: list[Shape]) -> str | None:
    channels = shapes[0][-1] if shapes and shapes[0] else None
    if channels is not None and params.get("groups") == channels:
        return "int8 quantisation of one-channel groups gives wrong results"
    return None


def _even_upscale(factor: float) -> bool:
    return factor in (2.0, 4.0)


def _onnx_resizing(params: Params, shapes: list[Shape]) -> str | None:
    method = params.get("interpolation", "bilinear")
    if method in ("lanczos3", "lanczos5", "area"):
        return f"tf2onnx cannot convert {method} resizing faithfully; use bilinear or nearest"
    if method == "bicubic":
        size = shapes[0][:2] if shapes and len(shapes[0]) >= 2 else (None, None)
        wanted = (params.get("height"), params.get("width"))
        factors = [w / s if s and w else None for w, s in zip(wanted, size, strict=True)]
        if not all(f is not None and _even_upscale(f) for f in factors):
            return "ONNX bicubic resizing matches TensorFlow only for x2 or x4 upscaling"
    return None


def _onnx_upsampling(params: Params, shapes: list[Shape]) -> str | None:
    method = params.get("interpolation", "nearest")
    if method in ("lanczos3", "lanczos5"):
        return f"tf2onnx cannot convert {method} resizing; use bilinear or nearest"
    if method == "bicubic" and not all(_even_upscale(float(f)) for f in params.get("size", ())):
        return "ONNX bicubic upsampling matches TensorFlow only for sizes 2 or 4"
    return None


_CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D")
_RECURRENT = ("LSTM", "GRU", "SimpleRNN", "Bidirectional")

LIMITS: dict[str, dict[str, ExportLimit]] = {
    "keras.layers.Dense": {"tfjs": _exponential},
    "keras.layers.Activation": {"tfjs": _exponential},
    **{f"keras.layers.{name}": {"tfjs": _exponential} for name in _CONVOLUTIONS},
    "keras.layers.Conv2DTranspose": {
        "tfjs": lambda p, s: _exponential(p, s) or _output_padding(p, s)
    },
    **{f"keras.layers.{name}": {"tflite": _fixed_sequence} for name in _RECURRENT},
    "keras.layers.LSTM": {"tfjs": _recurrent_activation, "tflite": _fixed_sequence},
    "keras.layers.SimpleRNN": {"tfjs": _recurrent_activation, "tflite": _fixed_sequence},
    "keras.layers.GRU": {"tfjs": _gru_reset_after, "tflite": _fixed_sequence},
    "keras.layers.Bidirectional": {
        "tfjs": _bidirectional,
        "tflite": _fixed_sequence,
        "tflite.int8": _int8_bidirectional,
    },
    "keras.layers.Conv3D": {"tfjs": _exponential, "tflite": _tflite_conv3d_dilation},
    "keras.layers.MultiHeadAttention": {"tflite.int8": _int8_attention},
    "keras.layers.GroupNormalization": {"tflite.int8": _int8_group_norm},
    "keras.layers.ReLU": {"tfjs": _relu_combination},
    "keras.layers.Dot": {"tfjs": _dot_rank},
    "keras.layers.Resizing": {
        "tfjs": _known_image_size,
        "tflite": _tflite_resizing,
        "onnx": _onnx_resizing,
    },
    "keras.layers.CenterCrop": {"tfjs": _known_image_size},
    "keras.layers.UpSampling2D": {
        "tfjs": _upsampling,
        "tflite": _tflite_upsampling,
        "onnx": _onnx_upsampling,
    },
}


def apply(
    specs: Iterable[NodeSpec], limits: Mapping[str, dict[str, ExportLimit]] = LIMITS
) -> list[NodeSpec]:
    """``specs`` with their limits from the table (a spec's own limits win)."""
    return [
        replace(spec, export_limits={**limits.get(spec.type_id, {}), **spec.export_limits})
        if spec.type_id in limits
        else spec
        for spec in specs
    ]
