"""What the ONNX target cannot take, declared for the editor and the export alike.

Plain Python, no TensorFlow (entry point ``layerloom.export_limits``). Found by converting every
spec's cases with tf2onnx and running them in onnxruntime (``tests/exporters/test_capabilities.py``
keeps it so): these resizings convert, but to different numbers; grouped convolutions do not
convert at all.
"""

from __future__ import annotations

from layerloom.nodes.export_capabilities import LimitKey, Params, TargetLimits
from layerloom.nodes.spec import Shape


def _even_upscale(factor: float) -> bool:
    return factor in (2.0, 4.0)


def _resizing(params: Params, shapes: list[Shape]) -> str | None:
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


def _upsampling(params: Params, shapes: list[Shape]) -> str | None:
    method = params.get("interpolation", "nearest")
    if method in ("lanczos3", "lanczos5"):
        return f"tf2onnx cannot convert {method} resizing; use bilinear or nearest"
    if method == "bicubic" and not all(_even_upscale(float(f)) for f in params.get("size", ())):
        return "ONNX bicubic upsampling matches TensorFlow only for sizes 2 or 4"
    return None


def _grouped(params: Params, shapes: list[Shape]) -> str | None:
    # Keras' TensorFlow backend runs grouped convolutions as an XLA-compiled function (TF has no
    # grouped kernel on CPU), which tf2onnx meets as a StatefulPartitionedCall it cannot convert.
    if int(params.get("groups", 1) or 1) != 1:
        return "tf2onnx cannot convert a grouped convolution (groups > 1); use groups 1"
    return None


_CONVOLUTIONS = {f"keras.layers.Conv{rank}D": _grouped for rank in (1, 2, 3)}

LIMITS = TargetLimits(
    "onnx",
    (
        LimitKey(
            "onnx",
            "ONNX",
            "ONNX",
            {
                "keras.layers.Resizing": _resizing,
                "keras.layers.UpSampling2D": _upsampling,
                **_CONVOLUTIONS,
            },
        ),
    ),
    rank=4,
)
