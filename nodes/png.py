"""A minimal PNG encoder for uint8 pictures: what feature-map grids and Grad-CAM maps are written as.

No imaging library is installed (and none is needed): a PNG is a signature, an IHDR chunk, the
zlib-compressed rows (filter byte 0 each) and IEND. Grayscale (H, W) and RGB (H, W, 3) arrays.
Files are written to a temporary sibling and renamed, so a reader never sees half a picture.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (gray, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(picture: np.ndarray) -> bytes:
    """``picture``: uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), as PNG bytes."""
    array = np.asarray(picture)
    if array.dtype != np.uint8:
        raise ValueError(f"a PNG needs uint8 values, not {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in COLOUR_TYPES or 0 in array.shape[:2]:
        raise ValueError(f"cannot write an array of shape {array.shape} as a PNG")
    height, width, channels = array.shape
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPES[channels], 0, 0, 0)
    rows = np.concatenate(
        [np.zeros((height, 1), dtype=np.uint8), array.reshape(height, width * channels)], axis=1
    )
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def write_png(path: str | Path, picture: np.ndarray) -> Path:
    """Write ``picture`` to ``path`` through a temporary sibling and a rename."""
    return write_bytes(path, encode_png(picture))


def write_bytes(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def decode_png_gray(data: bytes) -> np.ndarray:
    """The pixels of an 8-bit PNG this module wrote (filter 0 rows), for tests and checks."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    position, idat, width, height, channels = len(SIGNATURE), b"", 0, 0, 1
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, _, colour = struct.unpack(">IIBB", body[:10])
            channels = {value: key for key, value in COLOUR_TYPES.items()}[colour]
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, -1)
    if rows[:, 0].any():
        raise ValueError("only unfiltered rows are read here")
    return rows[:, 1:].reshape(height, width, channels).squeeze(-1 if channels == 1 else ())
