"""Shape arithmetic shared by the catalog's pure shape rules."""

from __future__ import annotations

from collections.abc import Sequence

from layerloom.nodes.errors import ShapeError
from layerloom.nodes.spec import Shape, format_shape


def require_rank(shape: Shape, rank: int | tuple[int, ...], what: str) -> None:
    ranks = (rank,) if isinstance(rank, int) else rank
    if len(shape) not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        raise ShapeError(
            f"{what} expects an input of rank {wanted} (without batch), got {fmt(shape)}"
        )


def require_min_rank(shape: Shape, rank: int, what: str) -> None:
    if len(shape) < rank:
        raise ShapeError(
            f"{what} expects an input of rank >= {rank} (without batch), got {fmt(shape)}"
        )


def require_known(dim: int | None, what: str) -> int:
    if dim is None:
        raise ShapeError(f"{what} must be known, got an unknown dimension")
    return dim


def conv_length(
    length: int | None, kernel: int, stride: int, padding: str, dilation: int = 1
) -> int | None:
    """Output length of a convolution or pooling window along one axis (Keras' formula)."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        out = (length + stride - 1) // stride
    else:
        out = (length - effective) // stride + 1
    if out <= 0:
        raise ShapeError(
            f"window {kernel} (stride {stride}, dilation {dilation}) does not fit an axis of size {length}"
        )
    return out


fmt = format_shape


def window_output(
    spatial: Shape,
    window: Sequence[int],
    strides: Sequence[int],
    padding: str,
    what: str,
    dilation: Sequence[int] | None = None,
) -> Shape:
    """Spatial output size of a sliding window (convolution or pooling), axis by axis."""
    dilation = dilation or (1,) * len(window)
    axes = zip(spatial, window, strides, dilation, strict=True)
    try:
        return tuple(conv_length(n, k, s, padding, d) for n, k, s, d in axes)
    except ShapeError as exc:
        raise ShapeError(
            f"{what} cannot slide over spatial size {fmt(spatial)} with padding {padding!r}: {exc}"
        ) from None


def keras_axis(axis: int, shape: Shape, what: str) -> int:
    """Index into batch-less ``shape`` of Keras ``axis`` (0 is the batch, negatives count back)."""
    rank = len(shape)
    index = axis - 1 if axis >= 0 else axis + rank
    if not 0 <= index < rank:
        raise ShapeError(
            f"{what} expects axis to name a non-batch axis (1..{rank} or -{rank}..-1) of its input "
            f"{fmt(shape)}, got axis {axis}"
        )
    return index
