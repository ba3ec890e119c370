"""What the phone target (TF Lite) cannot take, declared for the editor and the export alike.

Plain Python, no TensorFlow (entry point ``layerloom.export_limits``). Two keys: ``tflite`` for
every export, ``tflite.int8`` added by full-integer quantisation. Found by converting every spec's
cases with the real converter and running them in the LiteRT interpreter
(``tests/exporters/test_capabilities.py`` keeps it so). Recurrent layers are unrolled by the exporter
rather than refused, which is why they need a fixed length.
"""

from __future__ import annotations

from layerloom.nodes.export_capabilities import LimitKey, Params, TargetLimits
from layerloom.nodes.spec import Shape

RESIZE_WITHOUT_OP = ("bicubic", "area", "lanczos3", "lanczos5")
_RECURRENT = ("LSTM", "GRU", "SimpleRNN", "Bidirectional")


def _fixed_sequence(params: Params, shapes: list[Shape]) -> str | None:
    if shapes and shapes[0] and shapes[0][0] is None:
        return (
            "TF Lite runs recurrent layers unrolled, which needs a fixed sequence length; "
            "set the time steps of the Input"
        )
    return None


def _resize_op(default: str):
    def rule(params: Params, shapes: list[Shape]) -> str | None:
        method = params.get("interpolation", default)
        if method in RESIZE_WITHOUT_OP:
            return f"TF Lite has no built-in op for {method} resizing; use bilinear or nearest"
        return None

    return rule


def _conv3d_dilation(params: Params, shapes: list[Shape]) -> str | None:
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


FLOAT = {
    **{f"keras.layers.{name}": _fixed_sequence for name in _RECURRENT},
    "keras.layers.Conv3D": _conv3d_dilation,
    "keras.layers.Resizing": _resize_op("bilinear"),
    "keras.layers.UpSampling2D": _resize_op("nearest"),
}
INT8 = {
    "keras.layers.Bidirectional": _int8_bidirectional,
    "keras.layers.MultiHeadAttention": _int8_attention,
    "keras.layers.GroupNormalization": _int8_group_norm,
}

LIMITS = TargetLimits(
    "tflite",
    (
        LimitKey("tflite", "TF Lite", "TFL", FLOAT),
        LimitKey("tflite.int8", "TF Lite (int8)", "INT8", INT8, when={"quantization": ("int8",)}),
    ),
    rank=1,
)
