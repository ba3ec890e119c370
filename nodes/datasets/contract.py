"""The input contract: exactly what a trained model takes, from raw values to its Input tensors.

Everything that happens to data *outside* the model is written down here, once, from the
dataset and the plan it trained with: the image size, resize method, colour mode and value range
for image folders; the column order, numeric columns and each categorical column's vocabulary
(one-hot, in that order) for CSV files; the arrays as they are for .npz and samples. Every step
*inside* the model (Rescaling, Normalization) travels with the weights instead.

Exports write ``to_json()`` next to the model (machine-readable) and ``describe()`` into their
README; ``layerloom predict`` and the parity checks prepare inputs through the same contract, so
a phone, a web page and the CLI all see the same numbers. No TensorFlow here: decoding an image
the documented way lives with the code that has TensorFlow (``IMAGE_RESIZE`` names the method).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from layerloom.nodes.errors import DatasetError

CONTRACT_FILE = "input.json"
CONTRACT_FORMAT = 1
# tf.image.resize(image, (height, width), method="bilinear", antialias=False): half-pixel
# centres, no aspect-ratio preservation, no crop. The training pipeline resizes exactly so.
IMAGE_RESIZE = "bilinear"


def _code(text: str) -> str:
    return f"`{text}`"


@dataclass(frozen=True)
class ModelInput:
    name: str  # the Input node's name: the model's input tensor is named after it
    shape: list[int | None]  # per example, without the batch dimension
    dtype: str  # "float32", "int32", ...


@dataclass(frozen=True)
class ImageRule:
    height: int
    width: int
    channels: int  # 1: grayscale, 3: RGB, 4: RGBA
    resize: str = IMAGE_RESIZE
    value_range: tuple[float, float] = (0.0, 255.0)  # raw pixel values, not scaled

    @property
    def colour(self) -> str:
        return {1: "grayscale", 3: "RGB", 4: "RGBA"}.get(self.channels, f"{self.channels}-channel")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "numeric" | "categorical"
    vocabulary: list[str] | None = None  # categorical: one-hot positions, in this order

    @property
    def width(self) -> int:
        return len(self.vocabulary or []) if self.kind == "categorical" else 1


@dataclass(frozen=True)
class InputContract:
    kind: str  # "image" | "table" | "array"
    inputs: list[ModelInput]
    task: str  # "classification" | "regression" | "reconstruction"
    class_names: list[str] | None = None
    output: str = ""
    image: ImageRule | None = None
    # table: per Input name, its columns in feature order; the target column is not fed
    columns: dict[str, list[Column]] = field(default_factory=dict)
    target: str | None = None
    format: int = CONTRACT_FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InputContract:
        if data.get("format", CONTRACT_FORMAT) > CONTRACT_FORMAT:
            raise DatasetError(
                f"the input contract was written by a newer Layerloom (format {data['format']})"
            )
        image = data.get("image")
        return cls(
            kind=data["kind"],
            inputs=[ModelInput(**item) for item in data["inputs"]],
            task=data["task"],
            class_names=data.get("class_names"),
            output=data.get("output", ""),
            image=ImageRule(**{**image, "value_range": tuple(image["value_range"])})
            if image
            else None,
            columns={
                name: [Column(**column) for column in columns]
                for name, columns in (data.get("columns") or {}).items()
            },
            target=data.get("target"),
        )

    # -- tables -------------------------------------------------------------------------------------

    def feature_columns(self) -> list[str]:
        return [column.name for columns in self.columns.values() for column in columns]

    def encode_rows(self, rows: list[dict[str, str]], where: str = "row") -> dict[str, np.ndarray]:
        """CSV rows (column -> cell text) as the model's inputs, float32 (n, features) per Input.

        Encoded exactly as training encoded its file: numbers as they are, a categorical column
        one-hot over its vocabulary. A missing column, an empty or non-numeric cell or a category
        the model never saw is refused, naming the row (1-based) and the column."""
        if self.kind != "table":
            raise DatasetError(f"this model takes {self.kind} input, not table rows")
        encoded: dict[str, np.ndarray] = {}
        for input_name, columns in self.columns.items():
            width = sum(column.width for column in columns)
            matrix = np.zeros((len(rows), width), dtype=np.float32)
            for index, row in enumerate(rows):
                offset = 0
                for column in columns:
                    matrix[index, offset : offset + column.width] = _encode_cell(
                        column, row, f"{where} {index + 1}"
                    )
                    offset += column.width
            encoded[input_name] = matrix
        return encoded

    # -- words for READMEs --------------------------------------------------------------------------

    def describe(self, quote: Callable[[str], str] = _code) -> list[str]:
        """Markdown lines stating the exact input: names, order, dtype, range, shape. ``quote``
        writes a name or value from the user's data (exports pass their Markdown escaper)."""
        lines = []
        for item in self.inputs:
            shape = ", ".join("any" if s is None else str(s) for s in item.shape)
            lines.append(f"- Input {quote(item.name)}: {item.dtype}, shape (batch, {shape})")
        if self.image is not None:
            rule = self.image
            lines += [
                f"- Images: {rule.colour}, {rule.height}x{rule.width} (height x width),"
                f" channels last, pixel values {rule.value_range[0]:g} to"
                f" {rule.value_range[1]:g} as decoded (no scaling: the model rescales inside).",
                f"- Resize any other size to {rule.height}x{rule.width} with {rule.resize}"
                " interpolation, half-pixel centres, no antialiasing, no crop and no padding"
                " (TensorFlow's `tf.image.resize(image, (height, width))`); convert to"
                f" {rule.colour} first.",
            ]
        for input_name, columns in self.columns.items():
            lines.append(f"- Input {quote(input_name)} takes these columns, in this order:")
            position = 0
            for column in columns:
                if column.kind == "numeric":
                    lines.append(f"  - [{position}] {quote(column.name)}: the number as it is")
                else:
                    vocabulary = ", ".join(quote(v) for v in column.vocabulary or [])
                    lines.append(
                        f"  - [{position}..{position + column.width - 1}] {quote(column.name)}:"
                        f" one-hot, 1.0 at the position of its value among {vocabulary}"
                    )
                position += column.width
        if self.target:
            lines.append(f"- The target column {quote(self.target)} is not an input.")
        if self.class_names:
            shown = ", ".join(quote(name) for name in self.class_names)
            lines.append(f"- Output {quote(self.output)}: one score per class, in order: {shown}")
        elif self.task == "regression":
            lines.append(f"- Output {quote(self.output)}: the predicted value(s), unscaled")
        return lines


def _encode_cell(column: Column, row: dict[str, str], where: str) -> np.ndarray:
    if column.name not in row:
        raise DatasetError(f"{where} has no column '{column.name}'")
    text = (row[column.name] or "").strip()
    if column.kind == "categorical":
        vocabulary = column.vocabulary or []
        if text not in vocabulary:
            known = ", ".join(vocabulary[:10]) + (", ..." if len(vocabulary) > 10 else "")
            raise DatasetError(
                f"{where}, column '{column.name}': '{text}' was not in the training data"
                f" (known: {known})"
            )
        return np.eye(len(vocabulary), dtype=np.float32)[vocabulary.index(text)]
    if not text:
        raise DatasetError(f"{where}, column '{column.name}' is empty")
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"{where}, column '{column.name}': '{text}' is not a number") from None
    if not np.isfinite(value):
        raise DatasetError(f"{where}, column '{column.name}': {text} is not a finite number")
    return np.array([value], dtype=np.float32)
