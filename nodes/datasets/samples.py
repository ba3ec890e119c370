"""Built-in sample datasets, generated with NumPy from a fixed seed (no downloads, no files).

Each is small enough that one or two epochs of its starter template train in seconds on a laptop
CPU, and structured enough that the model visibly learns. Changing a generator changes its data:
bump ``GENERATOR_VERSION`` so fingerprints (and runs compared by them) tell the versions apart.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.nodes.datasets.base import Preview, register_source
from layerloom.nodes.datasets.fit import Target
from layerloom.nodes.datasets.memory import InMemorySource, value_summary
from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan

GENERATOR_VERSION = 1
Arrays = tuple[np.ndarray, np.ndarray | None]  # x, y (None: the input is the target)

# Seven-segment strokes per digit: a top, b top-right, c bottom-right, d bottom, e bottom-left,
# f top-left, g middle.
SEGMENTS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]
SHAPES = [
    "circle",
    "ring",
    "square",
    "frame",
    "triangle",
    "diamond",
    "plus",
    "cross",
    "h_stripes",
    "v_stripes",
]


def _tabular_classes(rng: np.random.Generator) -> Arrays:
    labels = rng.permutation(np.repeat(np.arange(3), 500))
    centers = rng.normal(0.0, 2.0, size=(3, 20))
    x = centers[labels] + rng.normal(0.0, 1.0, size=(len(labels), 20))
    return x.astype(np.float32), labels


def _regression(rng: np.random.Generator) -> Arrays:
    x = rng.normal(size=(1000, 8))
    weights = rng.normal(size=8)
    y = x @ weights + 0.5 * np.sin(2 * x[:, 0]) + rng.normal(0.0, 0.1, size=1000)
    return x.astype(np.float32), y[:, None].astype(np.float32)


def _scaled_regression(rng: np.random.Generator) -> Arrays:
    # Features from thousandths to thousands (as in real tables: rates, counts, prices), so an MLP
    # without a Normalization in front of it trains badly and one with it trains well.
    scales = np.array([0.001, 0.05, 1.0, 20.0, 300.0, 4000.0])
    z = rng.normal(size=(1000, len(scales)))
    x = scales * (z + 2.0)
    y = 10.0 + z @ rng.normal(size=len(scales)) + np.sin(2 * z[:, 0]) + rng.normal(0, 0.1, 1000)
    return x.astype(np.float32), y[:, None].astype(np.float32)


def _digit(rng: np.random.Generator, digit: int) -> np.ndarray:
    canvas = np.zeros((28, 28), dtype=np.float32)
    width, height, stroke = rng.integers(10, 15), rng.integers(16, 23), rng.integers(2, 4)
    left, top = rng.integers(2, 28 - width - 1), rng.integers(2, 28 - height - 1)
    mid, right, bottom = top + height // 2, left + width, top + height
    boxes = {
        "a": (top, top + stroke, left, right),
        "b": (top, mid + 1, right - stroke, right),
        "c": (mid, bottom, right - stroke, right),
        "d": (bottom - stroke, bottom, left, right),
        "e": (mid, bottom, left, left + stroke),
        "f": (top, mid + 1, left, left + stroke),
        "g": (mid - stroke // 2, mid - stroke // 2 + stroke, left, right),
    }
    for segment in SEGMENTS[digit]:
        y0, y1, x0, x1 = boxes[segment]
        canvas[y0:y1, x0:x1] = rng.uniform(170, 255)
    canvas += rng.normal(0.0, 18.0, size=canvas.shape)
    return np.clip(canvas, 0, 255)


def _digits(rng: np.random.Generator) -> Arrays:
    labels = rng.permutation(np.repeat(np.arange(10), 200))
    images = np.stack([_digit(rng, int(d)) for d in labels])
    return images.round().astype(np.uint8)[..., None], labels


def _digits_flat(rng: np.random.Generator) -> Arrays:
    images, _ = _digits(rng)
    return (images.reshape(len(images), 784) / 255.0).astype(np.float32), None


def _shape_mask(kind: str, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    inside = (np.abs(dx) <= r) & (np.abs(dy) <= r)
    masks: dict[str, Callable[[], np.ndarray]] = {
        "circle": lambda: dx**2 + dy**2 <= r**2,
        "ring": lambda: (dx**2 + dy**2 <= r**2) & (dx**2 + dy**2 >= (r - 2.5) ** 2),
        "square": lambda: (np.abs(dx) <= 0.8 * r) & (np.abs(dy) <= 0.8 * r),
        "frame": lambda: (
            (np.abs(dx) <= 0.8 * r)
            & (np.abs(dy) <= 0.8 * r)
            & ((np.abs(dx) > 0.8 * r - 2.5) | (np.abs(dy) > 0.8 * r - 2.5))
        ),
        "triangle": lambda: (dy <= 0.8 * r) & (np.abs(dx) <= (dy + r) / 2),
        "diamond": lambda: np.abs(dx) + np.abs(dy) <= r,
        "plus": lambda: inside & ((np.abs(dx) <= 1.5) | (np.abs(dy) <= 1.5)),
        "cross": lambda: inside & ((np.abs(dx - dy) <= 1.5) | (np.abs(dx + dy) <= 1.5)),
        "h_stripes": lambda: inside & ((np.floor(dy) // 2) % 2 == 0),
        "v_stripes": lambda: inside & ((np.floor(dx) // 2) % 2 == 0),
    }
    return masks[kind]()


def _shapes_rgb(rng: np.random.Generator) -> Arrays:
    # 150 per class, not 200: the residual CNN runs full-resolution convolutions, the slowest epoch.
    labels = rng.permutation(np.repeat(np.arange(10), 150))
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    images = np.empty((len(labels), 32, 32, 3), dtype=np.float32)
    for i, label in enumerate(labels):
        background = rng.uniform(0, 90, size=3)
        foreground = rng.uniform(150, 255, size=3)
        cx, cy, r = rng.uniform(11, 21), rng.uniform(11, 21), rng.uniform(7, 10)
        mask = _shape_mask(SHAPES[label], xx - cx, yy - cy, r)
        images[i] = np.where(mask[..., None], foreground, background)
    images += rng.normal(0.0, 12.0, size=images.shape)
    return np.clip(images, 0, 255).round().astype(np.uint8), labels


def _sequences(rng: np.random.Generator) -> Arrays:
    labels = rng.permutation(np.repeat(np.arange(2), 500))
    steps = np.linspace(0.0, 1.0, 50)[None, :]
    cycles = np.where(labels == 0, rng.uniform(1, 2, 1000), rng.uniform(3, 4.5, 1000))[:, None]
    phase = rng.uniform(0, 2 * np.pi, (1000, 1))
    wave = 2 * np.pi * cycles * steps + phase
    noise = rng.normal(0.0, 0.3, (1000, 50, 4))
    x = np.stack([np.sin(wave), np.cos(wave), steps.repeat(1000, 0), np.zeros((1000, 50))], -1)
    return (x + noise).astype(np.float32), labels


def _token_sequences(rng: np.random.Generator) -> Arrays:
    labels = rng.permutation(np.repeat(np.arange(2), 500))
    tokens = rng.integers(2, 1000, size=(1000, 64))
    # Each class sprinkles words from its own small vocabulary; the rest is shared noise.
    markers = np.where(labels[:, None] == 1, rng.integers(100, 150, (1000, 8)), 0)
    markers = np.where(labels[:, None] == 0, rng.integers(200, 250, (1000, 8)), markers)
    places = np.argsort(rng.random((1000, 64)), axis=1)[:, :8]
    np.put_along_axis(tokens, places, markers, axis=1)
    return tokens.astype(np.int32), labels


@dataclass(frozen=True)
class Sample:
    description: str
    make: Callable[[np.random.Generator], Arrays]
    task: str
    class_names: list[str] | None = None


CATALOG: dict[str, Sample] = {
    "tabular_classes": Sample(
        "1500 rows x 20 features, 3 classes of separable blobs",
        _tabular_classes,
        "classification",
        ["a", "b", "c"],
    ),
    "regression": Sample(
        "1000 rows x 8 features, one continuous target", _regression, "regression"
    ),
    "scaled_regression": Sample(
        "1000 rows x 6 features on scales from 0.001 to 4000, one continuous target",
        _scaled_regression,
        "regression",
    ),
    "digits": Sample(
        "2000 seven-segment digits, 28x28x1 values 0..255, 10 classes",
        _digits,
        "classification",
        [str(d) for d in range(10)],
    ),
    "digits_flat": Sample(
        "2000 digits flattened to 784 values in 0..1; the target is the input (autoencoder)",
        _digits_flat,
        "reconstruction",
    ),
    "shapes_rgb": Sample(
        "1500 coloured shapes, 32x32x3 values 0..255, 10 classes",
        _shapes_rgb,
        "classification",
        SHAPES,
    ),
    "sequences": Sample(
        "1000 sequences of 50 steps x 4 features, 2 classes (slow or fast waves)",
        _sequences,
        "classification",
        ["slow", "fast"],
    ),
    "token_sequences": Sample(
        "1000 sequences of 64 token ids < 1000, 2 classes",
        _token_sequences,
        "classification",
        ["negative", "positive"],
    ),
}
SAMPLES: dict[str, str] = {name: sample.description for name, sample in CATALOG.items()}


@lru_cache(maxsize=4)
def generate(name: str) -> Arrays:
    """The sample's arrays (read-only, shared): the same on every machine and every call."""
    rng = np.random.default_rng(zlib.crc32(name.encode()) + GENERATOR_VERSION)
    x, y = CATALOG[name].make(rng)
    for array in (x, y):
        if array is not None:
            array.flags.writeable = False
    return x, y


@register_source
class SampleSource(InMemorySource):
    kind = "sample"
    rank = 0
    options = ("name",)
    label = "Built-in sample"
    locator = "name"
    what = "a sample"
    cli_help = "built-in sample (a wrong name lists them)"

    @classmethod
    def choices(cls) -> dict[str, str]:
        return dict(SAMPLES)

    def __init__(self, spec: dict[str, Any], base_dir: str | Path | None = None) -> None:
        super().__init__(spec, base_dir)
        self.sample_name = str(spec.get("name"))
        if self.sample_name not in CATALOG:
            raise DatasetError(
                f"unknown sample {spec.get('name')!r}; samples: {', '.join(CATALOG)}"
            )
        self.sample = CATALOG[self.sample_name]

    @property
    def name(self) -> str:
        return f"sample '{self.sample_name}'"

    def inputs_for(self, plan: BuildPlan) -> dict[str, np.ndarray]:
        return {self.single_input(plan): generate(self.sample_name)[0]}

    def target(self) -> Target:
        _, y = generate(self.sample_name)
        if y is None:
            return Target(task="reconstruction")
        if self.sample.task == "classification":
            return Target(labels=y, class_names=self.sample.class_names, task="classification")
        return Target(numbers=y.astype(np.float64), task=self.sample.task)

    def count(self) -> int:
        return len(generate(self.sample_name)[0])

    def fingerprint(self) -> str:
        return hashlib.sha256(
            f"sample:{self.sample_name}:v{GENERATOR_VERSION}".encode()
        ).hexdigest()

    def preview(self, rows: int = 5) -> Preview:
        x, y = generate(self.sample_name)
        classes = None
        if self.sample.class_names is not None and y is not None:
            counts = np.bincount(y, minlength=len(self.sample.class_names)).tolist()
            classes = dict(zip(self.sample.class_names, counts, strict=True))
        first = []
        for i in range(min(rows, len(x))):
            if y is None:
                target = "(input)"
            elif classes is not None:
                target = self.sample.class_names[int(y[i])]
            else:
                target = value_summary(y[i])
            first.append([str(i), value_summary(x[i]), target])
        return Preview(
            kind=self.kind,
            path=self.sample_name,
            count=len(x),
            unit="examples",
            columns=[f"x: {tuple(x.shape[1:])} {x.dtype}", f"task: {self.sample.task}"],
            classes=classes,
            shapes={"x": list(x.shape[1:])},
            header=["#", "x", "target"],
            rows=first,
            notes=[self.sample.description],
        )
