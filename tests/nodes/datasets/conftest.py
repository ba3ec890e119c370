"""Fixtures for dataset tests: small files written into tmp_path."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest


def write_csv(
    path: Path, header: list[str], rows: list[list[object]], delimiter: str = ","
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def iris_like(tmp_path) -> Path:
    """60 rows: 3 numeric features, a text 'colour' column, a text target with 3 classes."""
    rng = np.random.default_rng(0)
    species = ["setosa", "versicolor", "virginica"]
    rows = []
    for i in range(60):
        label = i % 3
        values = rng.normal(label * 3, 0.5, size=3).round(3).tolist()
        rows.append([*values, ["red", "green"][i % 2], species[label]])
    return write_csv(tmp_path / "data.csv", ["a", "b", "c", "colour", "species"], rows)
