"""Shape arithmetic shared by the catalog's pure shape rules."""

from __future__ import annotations

from nodes.errors import ShapeError
from nodes.spec import Shape


def require_rank(shape: Shape, rank: int | tuple[int, ...], what: str) -> None:
    ranks = (rank,) if isinstance(rank, int) else rank
    if len(shape) not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        raise ShapeError(f"{what} expects an input of rank {wanted} (without batch), got {fmt(shape)}")


def require_min_rank(shape: Shape, rank: int, what: str) -> None:
    if len(shape) < rank:
        raise ShapeError(f"{what} expects an input of rank >= {rank} (without batch), got {fmt(shape)}")


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


def fmt(shape: Shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"
