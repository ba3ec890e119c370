"""An image file's height, width and channels from its header, in pure Python (no TensorFlow, no
image library), so fitting a graph to an image folder reads a few hundred bytes a file.

Channels are what ``tf.io.decode_image`` yields without a ``channels`` argument: 1 grey, 2 grey
with alpha, 3 colour, 4 colour with alpha; palette images decode to 3 (GIF, palette PNG and BMP).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

Size = tuple[int, int, int]  # height, width, channels
HEAD = 64 * 1024  # JPEG's frame header may sit after EXIF data (thumbnails): read this much

PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # IHDR colour type -> decoded channels
JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _png(data: bytes) -> Size | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 26 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return height, width, PNG_CHANNELS.get(data[25], 3)


def _jpeg(data: bytes) -> Size | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill bytes before a marker
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            at += 2
            continue
        (length,) = struct.unpack_from(">H", data, at + 2)
        if marker in JPEG_FRAMES:
            height, width = struct.unpack_from(">HH", data, at + 5)
            return height, width, 1 if data[at + 9] == 1 else 3
        at += 2 + length
    return None


def _gif(data: bytes) -> Size | None:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 10:
        return None
    width, height = struct.unpack_from("<HH", data, 6)
    return height, width, 3


def _bmp(data: bytes) -> Size | None:
    if not data.startswith(b"BM") or len(data) < 30:
        return None
    width, height = struct.unpack_from("<ii", data, 18)
    (bits,) = struct.unpack_from("<H", data, 28)
    return abs(height), abs(width), 4 if bits == 32 else 3


READERS: tuple[Callable[[bytes], Size | None], ...] = (_png, _jpeg, _gif, _bmp)


def image_size(path: str | Path) -> Size | None:
    """(height, width, channels) of a PNG, JPEG, GIF or BMP file; None when unrecognised."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(HEAD)
    except OSError:
        return None
    return next((size for read in READERS if (size := read(data)) is not None), None)
