"""Small trained projects for the predict tests: generated images, a CSV with a categorical
column, a regression CSV; each trained for one epoch on the in-process backend (real Keras)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.training import start_run
from layerloom.backends.registry import create_backend
from layerloom.nodes.datasets import store_dataset_spec

QUICK = {"epochs": 1, "batch_size": 8, "batch_event_every": 1000, "checkpoint_seconds": 0}
IMAGE_CLASSES = ("bleu", "rouge")  # sorted: the class order of an image folder
SIZES = ((16, 16), (20, 24), (12, 9))  # decoded and resized to the Input's 16x16


def write_png(path: Path, pixels: np.ndarray) -> None:
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(pixels.astype(np.uint8)).numpy())


def coloured(rng: np.random.Generator, colour: str, size: tuple[int, int]) -> np.ndarray:
    pixels = rng.integers(0, 90, size=(*size, 3))
    pixels[..., 2 if colour == "bleu" else 0] += 160
    return pixels


def _set(opened, changes: dict[str, dict]) -> None:
    for node in opened.graph.nodes():
        if node.name in changes:
            node.params.update(changes[node.name])
    opened.save("fitted to the test data")


def train(path: Path, jobs: Path, settings: dict | None = None) -> int:
    with open_project(path) as opened:
        session = start_run(
            opened, {**QUICK, **(settings or {})}, backend=create_backend("inprocess", root=jobs)
        )
        for _ in session.events(timeout=300):
            pass
        assert session.status == "finished", session.error
        session.close()
        return session.run_id


def image_project(folder: Path) -> Path:
    """small_cnn on 16x16 RGB images of two classes (blue-ish and red-ish), files of three sizes."""
    rng = np.random.default_rng(7)
    data = folder / "images"
    for colour in IMAGE_CLASSES:
        for i in range(12):
            size = SIZES[i % len(SIZES)]
            write_png(data / colour / f"{colour}_{i:02d}.png", coloured(rng, colour, size))
    path = folder / "couleurs.loom"
    with create_project(path, "small_cnn") as opened:
        _set(opened, {"image": {"shape": [16, 16, 3]}, "classes": {"units": 2}})
        store_dataset_spec(opened, {"kind": "images", "path": str(data)})
    return path


TABLE_HEADER = ["a", "couleur", "b", "étiquette"]


def table_rows(count: int, seed: int = 3) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        a, b = rng.normal(size=2)
        colour = ["rouge", "bleu", "vert"][int(rng.integers(0, 3))]
        label = "oui" if a + b + (colour == "rouge") > 0.5 else "non"
        rows.append([f"{a:.3f}", colour, f"{b:.3f}", label])
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def table_project(folder: Path) -> Path:
    """mlp_classifier on a CSV with numbers and a categorical column (5 encoded features)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = write_csv(folder / "données.csv", TABLE_HEADER, table_rows(60))
    path = folder / "tableau.loom"
    with create_project(path, "mlp_classifier") as opened:
        _set(opened, {"features": {"shape": [5]}, "classes": {"units": 2}})
        store_dataset_spec(opened, {"kind": "csv", "path": str(data), "target": "étiquette"})
    return path


REGRESSION_HEADER = [f"x{i}" for i in range(1, 7)] + ["y"]


def regression_rows(count: int, seed: int = 5) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 6))
    y = x @ np.arange(1, 7) + 3.0
    return [[f"{v:.4f}" for v in row] + [f"{t:.4f}"] for row, t in zip(x, y, strict=True)]


def regression_project(folder: Path) -> Path:
    """mlp_regressor (6 numeric features, one value) on a regression CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    data = write_csv(folder / "valeurs.csv", REGRESSION_HEADER, regression_rows(60))
    path = folder / "régression.loom"
    with create_project(path, "mlp_regressor") as opened:
        store_dataset_spec(
            opened, {"kind": "csv", "path": str(data), "target": "y", "task": "regression"}
        )
    return path
