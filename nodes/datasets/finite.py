"""Numbers training cannot use: NaN, inf and values beyond float32's range (training reads
float32, where 1e308 becomes inf and poisons the loss). Found before training, by array and row."""

from __future__ import annotations

import numpy as np

from layerloom.nodes.errors import DatasetError

FLOAT32_MAX = float(np.finfo(np.float32).max)


def first_out_of_range(values: np.ndarray) -> int | None:
    """The first example (row) holding NaN, inf or a value beyond float32, or None."""
    if values.dtype.kind != "f":
        return None
    flat = values.reshape(len(values), -1) if values.ndim else values.reshape(1, 1)
    bad = ~np.isfinite(flat) | (np.abs(np.nan_to_num(flat)) > FLOAT32_MAX)
    rows = np.flatnonzero(bad.any(axis=1))
    return int(rows[0]) if len(rows) else None


def not_finite(values: np.ndarray, where: str) -> None:
    """DatasetError naming ``where`` (the file and array), the example and the value."""
    index = first_out_of_range(values)
    if index is None:
        return
    row = values.reshape(len(values), -1)[index] if values.ndim else values.reshape(1)
    value = next(v for v in row if not np.isfinite(v) or abs(v) > FLOAT32_MAX)
    count = int((~np.isfinite(values) | (np.abs(np.nan_to_num(values)) > FLOAT32_MAX)).sum())
    raise DatasetError(
        f"{where}, example {index} (counting from 0): {value} is not a usable number"
        f" ({count:,} value(s) are NaN, inf or beyond float32's ±{FLOAT32_MAX:.1e})"
    )
