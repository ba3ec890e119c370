"""Recognise an image file from its bytes, in pure Python: is it a PNG, JPEG, GIF or BMP, and is it
whole? ``check`` uses this so a broken image folder is refused without importing TensorFlow (the
GUI and CLI check data in-process); the worker later decodes the same files with TensorFlow.
``file_format`` reads a file's first and last bytes only, so every file is checked up front.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path


def _png(data: bytes) -> bool:
    # Signature, then IHDR first; a file cut short loses its IEND chunk at the end.
    return (
        data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and b"IEND" in data[-12:]
    )


def _jpeg(data: bytes) -> bool:
    # Start-of-image marker; end-of-image near the end (some writers pad after it).
    return data.startswith(b"\xff\xd8\xff") and b"\xff\xd9" in data[-1024:]


def _gif(data: bytes) -> bool:
    return data[:6] in (b"GIF87a", b"GIF89a") and data.rstrip(b"\x00").endswith(b";")


def _bmp(data: bytes) -> bool:
    if not data.startswith(b"BM") or len(data) < 26:
        return False
    (pixel_offset,) = struct.unpack_from("<I", data, 10)
    return pixel_offset < len(data)


FORMATS = {"PNG": _png, "JPEG": _jpeg, "GIF": _gif, "BMP": _bmp}


def image_format(data: bytes) -> str | None:
    """ "PNG", "JPEG", "GIF" or "BMP" when ``data`` looks like a whole image of that format."""
    return next((name for name, test in FORMATS.items() if test(data)), None)


HEAD, TAIL = 32, 1024  # what the checks above read: the signature and the end of the file


def file_format(path: str | Path) -> str | None:
    """``image_format`` of a file from its first and last bytes only (two small reads, however big
    the image), so every file of a folder is checked when the dataset is set."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size <= HEAD + TAIL:
            return image_format(handle.read())
        head = handle.read(HEAD)
        handle.seek(size - TAIL)
        tail = handle.read(TAIL)
    # The checks look at the head and the tail only, and BMP compares its pixel offset with the
    # size: a stand-in of the same length with zeros between says exactly what the file would.
    if head.startswith(b"BM"):
        (pixel_offset,) = struct.unpack_from("<I", head, 10)
        return "BMP" if pixel_offset < size else None
    return image_format(head + tail)
