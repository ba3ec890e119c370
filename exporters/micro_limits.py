"""What the microcontroller target (TF Lite Micro) cannot take, declared for the editor and the
export alike.

Plain Python, no TensorFlow (entry point ``layerloom.export_limits``). The micro export is TF Lite's
full-integer model converted with a batch of one, so every TF Lite and TF Lite (int8) limit applies
too (the same rules, shared). On top of those: what TFLM has no int8 kernel for, found by converting
every spec's cases and running them in the ``tflite-micro`` interpreter
(``tests/exporters/test_capabilities.py`` keeps it so), and an Input with an open size, because
TFLM plans its whole arena for fixed shapes before the first inference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from layerloom.exporters.tflite_limits import FLOAT, INT8
from layerloom.nodes.export_capabilities import (
    ExportLimit,
    LimitKey,
    NodeFootprint,
    Params,
    TargetLimits,
)
from layerloom.nodes.spec import Shape

# Activations whose int8 form TFLM cannot run: GELU has no kernel, SELU becomes SELECT, softplus
# and exponential become a float EXP that TFLM's int8 graph cannot feed.
NO_KERNEL_ACTIVATIONS = {
    "gelu": "TF Lite Micro has no GELU kernel",
    "selu": "TF Lite Micro has no SELECT kernel, which SELU needs",
    "softplus": "TF Lite Micro runs EXP in float only, which int8 softplus needs",
    "exponential": "TF Lite Micro runs EXP in float only, which an int8 exponential needs",
}
_ACTIVATED = (
    "Dense",
    "Activation",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "DepthwiseConv2D",
    "SeparableConv2D",
)
_RECURRENT = ("LSTM", "GRU", "SimpleRNN")


def _fixed_input(params: Params, shapes: list[Shape]) -> str | None:
    if any(d is None for d in params.get("shape", ())):
        return "TF Lite Micro plans its memory for fixed shapes; set every size of this Input"
    return None


def _activation(params: Params, shapes: list[Shape]) -> str | None:
    return NO_KERNEL_ACTIVATIONS.get(str(params.get("activation", "linear")))


def _recurrent_activation(params: Params, shapes: list[Shape]) -> str | None:
    for key in ("activation", "recurrent_activation"):
        reason = NO_KERNEL_ACTIVATIONS.get(str(params.get(key, "")))
        if reason:
            return reason
    return None


def _upsampling(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("interpolation", "nearest") == "nearest":
        return "TF Lite Micro has no TILE kernel, which Keras' nearest upsampling becomes"
    return None


def _dot(params: Params, shapes: list[Shape]) -> str | None:
    if params.get("normalize"):
        # measured: up to 72 int8 steps from LiteRT's reference kernels on the same inputs
        return (
            "TF Lite Micro's normalised dot product (float SUM/RSQRT islands) gives wrong numbers"
        )
    return None


OWN: dict[str, ExportLimit] = {
    **{f"keras.layers.{name}": _activation for name in _ACTIVATED},
    **{f"keras.layers.{name}": _recurrent_activation for name in _RECURRENT},
    "keras.layers.Conv3D": "TF Lite Micro has no CONV_3D kernel",
    "keras.layers.Embedding": "TF Lite Micro has no SELECT kernel, which Keras' Embedding becomes",
    "keras.layers.RepeatVector": "TF Lite Micro has no TILE kernel, which RepeatVector becomes",
    "keras.layers.UpSampling2D": _upsampling,
    "keras.layers.Dot": _dot,
    # TFLM runs it, but LiteRT's reference kernels (which TFLM's are held to) have no int8 ELU.
    "keras.layers.ELU": "LiteRT's reference kernels have no int8 ELU to check TF Lite Micro against",
    # Open sizes are refused on the Input that opens them (the layers after it follow from it).
    "keras.Input": _fixed_input,
}


def _first(*rules: ExportLimit | None) -> ExportLimit:
    """One rule that gives the first reason any of ``rules`` gives (the shared TF Lite rules stay
    the same objects, so a reason reads the same under both targets)."""
    present = [rule for rule in rules if rule is not None]
    if len(present) == 1:
        return present[0]

    def rule(params: Params, shapes: list[Shape]) -> str | None:
        for each in present:
            reason = each if isinstance(each, str) else each(params, shapes)
            if reason:
                return reason
        return None

    return rule


def _merged(*tables: Mapping[str, ExportLimit]) -> dict[str, ExportLimit]:
    names = sorted({name for table in tables for name in table})
    return {name: _first(*(table.get(name) for table in tables)) for name in names}


# The estimate before an export, fitted to what exports of the starter templates measured
# (bench/micro.py): the flatbuffer holds one byte per int8 weight plus ~2.5 KB of model and
# ~150 bytes per operator; TFLM's arena holds ~3.5 KB of its own plus, at the widest point, a
# layer's int8 inputs and output together. A recurrent layer is unrolled, once per time step.
FLATBUFFER_BASE, PER_OPERATOR, ARENA_BASE = 2560, 150, 3584


def _elements(shape: Shape | None) -> int:
    count = 1
    for size in shape or ():
        count *= size or 1
    return count


def estimate(nodes: Sequence[NodeFootprint]) -> list[str]:
    """Flash and RAM before converting, from shapes and parameter counts (no TensorFlow)."""
    flash, widest, unrolled = FLATBUFFER_BASE, 0, False
    for node in nodes:
        steps = 1
        if node.kind in _RECURRENT and node.input_shapes and len(node.input_shapes[0]) == 2:
            steps, unrolled = node.input_shapes[0][0] or 1, True
        flash += node.params * steps + (PER_OPERATOR if node.kind != "Input" else 0)
        live = sum(_elements(s) for s in node.input_shapes) + _elements(node.shape)
        widest = max(widest, live)
    note = "; recurrent layers are unrolled, the arena may be much larger" if unrolled else ""
    return [
        f"Flash (model) ≈ {flash / 1024:.1f} KB (estimated; the export measures it)",
        f"RAM (tensor arena) ≈ {(ARENA_BASE + widest) / 1024:.1f} KB (estimated{note})",
    ]


LIMITS = TargetLimits(
    "micro",
    (LimitKey("micro", "TF Lite Micro", "MCU", _merged(FLOAT, INT8, OWN)),),
    rank=2,
    estimate=estimate,
)
