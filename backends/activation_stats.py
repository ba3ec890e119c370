"""What ``inspect`` says about one node's output: its statistics and a small picture of it.

Plain NumPy, no TensorFlow: the worker hands the arrays Keras computed to these functions.

Statistics (``node_statistics``), over every value of the output for every example fed:

- ``min``, ``max``, ``mean``, ``std`` (population, ddof 0): over the **finite** values only, so
  one NaN does not hide what the rest look like; None when no value is finite;
- ``zero_fraction``: the share of all values that are exactly 0 (dead ReLU units show here);
- ``nonfinite_fraction``: the share of all values that are NaN or infinite.

Computed in float64 from the output's own dtype. Previews (``preview``) are for the first example:
``maps`` (a grid of feature maps as a PNG, per channel scaled to its own range), ``bars`` (a
vector of up to ``MAX_BARS`` values), ``histogram`` (a longer vector), ``topk`` (the model's output
for a classifier: its best classes).
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from layerloom.nodes.png import encode_png

MAX_BARS = 64
HISTOGRAM_BINS = 32
TOP_K = 5
THUMB_CHANNELS = 16  # the canvas preview shows this many feature maps at most
THUMB_SIDE = 128  # and scales its grid down to about this many pixels
MAP_CHANNELS = 64  # --maps writes this many at most per node
GRID_GAP = 1


def node_statistics(values: Any) -> dict[str, Any]:
    array = np.asarray(values)
    if array.dtype.kind not in "fiub":
        array = array.astype(np.float64)
    flat = array.astype(np.float64, copy=False).ravel()
    total = flat.size
    finite = flat[np.isfinite(flat)]
    stats: dict[str, Any] = {
        "min": None,
        "max": None,
        "mean": None,
        "std": None,
        "zero_fraction": float(np.count_nonzero(flat == 0) / total) if total else 0.0,
        "nonfinite_fraction": float((total - finite.size) / total) if total else 0.0,
    }
    if finite.size:
        stats.update(
            min=float(finite.min()),
            max=float(finite.max()),
            mean=float(finite.mean()),
            std=float(finite.std()),
        )
    return stats


def is_image_like(shape: tuple[int, ...]) -> bool:
    """An output per example of (H, W, C) with a real picture in it: maps are drawn for it."""
    return len(shape) == 3 and shape[0] > 1 and shape[1] > 1


def _scaled(channel: np.ndarray) -> np.ndarray:
    """One map as uint8, stretched over its own finite range (a flat map is mid-gray)."""
    values = channel.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, dtype=np.uint8)
    low, high = values[finite].min(), values[finite].max()
    scaled = (values - low) / (high - low) if high > low else np.full(values.shape, 0.5)
    return np.nan_to_num(scaled * 255.0, nan=0.0, posinf=255.0, neginf=0.0).round().astype(np.uint8)


def map_grid(example: np.ndarray, channels: int = MAP_CHANNELS) -> np.ndarray:
    """The first ``channels`` maps of one (H, W, C) output side by side in a near-square grid,
    uint8 with a 1-pixel black gap; a (T, F) output is one map."""
    maps = example[:, :, None] if example.ndim == 2 else example
    count = min(maps.shape[2], channels)
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    height, width = maps.shape[:2]
    grid = np.zeros(
        (rows * (height + GRID_GAP) - GRID_GAP, columns * (width + GRID_GAP) - GRID_GAP),
        dtype=np.uint8,
    )
    for index in range(count):
        top = (index // columns) * (height + GRID_GAP)
        left = (index % columns) * (width + GRID_GAP)
        grid[top : top + height, left : left + width] = _scaled(maps[:, :, index])
    return grid


def _shrunk(picture: np.ndarray, side: int) -> np.ndarray:
    """Every k-th pixel so the longer side is about ``side`` (a thumbnail, not a resample)."""
    step = max(1, math.ceil(max(picture.shape[:2]) / side))
    return picture[::step, ::step]


def png_text(picture: np.ndarray) -> str:
    return base64.b64encode(encode_png(picture)).decode("ascii")


def preview(
    example: np.ndarray, class_names: list[str] | None = None, head: bool = False
) -> dict[str, Any]:
    """A small picture of one example's output (JSON-able) for the canvas."""
    array = np.asarray(example, dtype=np.float64)
    if array.ndim >= 2 and array.size > 1 and (is_image_like(array.shape) or array.ndim == 2):
        grid = map_grid(array, THUMB_CHANNELS)
        shown = min(array.shape[2], THUMB_CHANNELS) if array.ndim == 3 else 1
        channels = array.shape[2] if array.ndim == 3 else 1
        return {
            "kind": "maps",
            "png": png_text(_shrunk(grid, THUMB_SIDE)),
            "shown": shown,
            "channels": channels,
        }
    flat = np.nan_to_num(array.ravel(), nan=0.0, posinf=0.0, neginf=0.0)
    if head and flat.size > 1:
        order = np.argsort(-flat, kind="stable")[:TOP_K]
        names = class_names if class_names and len(class_names) == flat.size else None
        return {
            "kind": "topk",
            "items": [[names[i] if names else str(int(i)), float(flat[i])] for i in order],
        }
    if flat.size <= MAX_BARS:
        return {"kind": "bars", "values": [float(v) for v in flat]}
    counts, edges = np.histogram(flat, bins=HISTOGRAM_BINS)
    return {
        "kind": "histogram",
        "counts": [int(c) for c in counts],
        "range": [float(edges[0]), float(edges[-1])],
    }
