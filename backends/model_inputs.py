"""Raw inputs (image files and folders, CSV files, .npz arrays) as a trained model's input arrays.

The input contract (``nodes.datasets.contract``) says how the model's training data became its
inputs; this module does the same to files a user names, so ``layerloom predict`` (and anything
else that asks a model about new data) sees exactly what training saw:

- images are decoded and resized by the training pipeline's own function
  (``nodes.datasets.images.decode_image``: the contract's size and channels, bilinear, 0..255);
- each CSV row is encoded by ``InputContract.encode_rows`` (numbers as they are, categories one-hot
  over the training vocabulary); the target column and any other extra column are ignored;
- an .npz is fed as it is: its array ``x`` for a one-Input model, or one array per Input name.

Two steps: ``collect`` (pure Python, no TensorFlow) turns the paths into named sources and refuses
what cannot be an input of this model, so a face can refuse a typo before any worker starts;
``read`` (TensorFlow for images, imported inside) makes the arrays. Every refusal is one
``InputError`` line naming the file, the row or the array at fault.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.nodes.datasets.contract import InputContract
from layerloom.nodes.errors import DatasetError, UsageError

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
TABLE_SUFFIXES = (".csv", ".tsv")
ARRAY_SUFFIXES = (".npz",)
KINDS = ("image", "table", "array")


class InputError(DatasetError, UsageError):
    """An input file, row or array that cannot be fed to the model; the message names it. A
    usage error: the CLI exits 2, as for any value typed that cannot be used."""


@dataclass(frozen=True)
class Source:
    kind: str  # "image" | "table" | "array"
    path: str  # absolute
    name: str  # as the user named it (a folder's files: the folder as typed, then the rest)

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "name": self.name}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Source:
        return cls(data["kind"], data["path"], data["name"])


@dataclass
class Inputs:
    """What ``read`` made: one name per example and, per model Input, the examples' array."""

    names: list[str]
    arrays: dict[str, np.ndarray]


def _kind_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    for kind, suffixes in zip(KINDS, (IMAGE_SUFFIXES, TABLE_SUFFIXES, ARRAY_SUFFIXES), strict=True):
        if suffix in suffixes:
            return kind
    return None


def _accepted(contract: InputContract) -> tuple[str, ...]:
    """The source kinds a model trained on this contract can take: its own, and arrays as is."""
    return {"image": ("image", "array"), "table": ("table", "array")}.get(contract.kind, ("array",))


def _wrong_kind(name: str, kind: str, contract: InputContract) -> InputError:
    takes = {
        "image": "image files or folders (PNG, JPEG, GIF, BMP) or an .npz",
        "table": "CSV files (one prediction per row) or an .npz",
    }.get(contract.kind, "an .npz of arrays (it was trained on arrays, not on files)")
    what = {"image": "an image", "table": "a CSV file", "array": "an .npz"}[kind]
    return InputError(f"{name} is {what}, but this model takes {takes}")


def _folder_images(root: Path, typed: str) -> list[Source]:
    """Every image under ``root``, recursively, sorted, hidden files and folders skipped (as the
    image-folder dataset lists them)."""
    found = []
    for folder, subfolders, filenames in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.startswith(".") or not filename.lower().endswith(IMAGE_SUFFIXES):
                continue
            path = Path(folder, filename)
            shown = os.path.join(typed, path.relative_to(root).as_posix())
            found.append(Source("image", str(path.resolve()), shown))
    if not found:
        raise InputError(f"{typed} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return found


def collect(paths: list[str | Path], contract: InputContract) -> list[Source]:
    """The sources ``paths`` name, in order (a folder: its images, recursively), each checked to
    exist and to be something this model takes. No file is opened beyond listing folders."""
    if not paths:
        raise InputError("name at least one input: image files or folders, a CSV or an .npz")
    accepted = _accepted(contract)
    sources: list[Source] = []
    for raw in paths:
        typed = str(raw)
        path = Path(raw).expanduser()
        if path.is_dir():
            if "image" not in accepted:
                raise InputError(
                    f"{typed} is a folder; folders are read for images, and this model"
                    f" takes {'CSV rows' if contract.kind == 'table' else 'arrays'}"
                )
            sources += _folder_images(path, typed)
            continue
        if not path.exists():
            raise InputError(f"{typed} does not exist")
        if not path.is_file():
            raise InputError(f"{typed} is not a file or a folder")
        kind = _kind_of(path)
        if kind is None:
            raise InputError(
                f"{typed}: not an input Layerloom reads (images: {', '.join(IMAGE_SUFFIXES)};"
                " tables: .csv, .tsv; arrays: .npz)"
            )
        if kind not in accepted:
            raise _wrong_kind(typed, kind, contract)
        sources.append(Source(kind, str(path.resolve()), typed))
    return sources


# --- reading ---------------------------------------------------------------------------------


def read(sources: list[Source], contract: InputContract) -> Inputs:
    """The model's input arrays for every example of ``sources``, in order."""
    names: list[str] = []
    parts: dict[str, list[np.ndarray]] = {item.name: [] for item in contract.inputs}
    images = [s for s in sources if s.kind == "image"]
    decoded = iter(_read_images(images, contract)) if images else iter(())
    for source in sources:
        if source.kind == "image":
            found_names, arrays = [source.name], {contract.inputs[0].name: next(decoded)[None]}
        elif source.kind == "table":
            found_names, arrays = read_table(source, contract)
        else:
            found_names, arrays = read_arrays(source, contract)
        names += found_names
        for input_name, array in arrays.items():
            parts[input_name].append(array)
    dtypes = {item.name: item.dtype for item in contract.inputs}
    return Inputs(
        names,
        {name: np.concatenate(chunks).astype(dtypes[name]) for name, chunks in parts.items()},
    )


def _read_images(sources: list[Source], contract: InputContract) -> list[np.ndarray]:
    import tensorflow as tf

    from layerloom.nodes.datasets.images import decode_image

    rule = contract.image
    if rule is None:
        raise InputError("this model takes no images")
    dtype = tf.as_dtype(contract.inputs[0].dtype)
    shape = (rule.height, rule.width, rule.channels)
    images = []
    for source in sources:
        try:
            # Read in Python: any file name the OS takes works, whatever its characters.
            data = Path(source.path).read_bytes()
        except OSError as error:
            raise InputError(f"{source.name} cannot be read: {error.strerror or error}") from None
        if not data:
            raise InputError(f"{source.name} is empty (0 bytes)")
        try:
            image = decode_image(tf.constant(data), shape, dtype)
        except (tf.errors.OpError, ValueError):
            raise InputError(
                f"{source.name} is not a readable image (PNG, JPEG, GIF or BMP)"
            ) from None
        images.append(image.numpy())
    return images


_ROW = re.compile(r"^row (\d+)")


def read_table(source: Source, contract: InputContract) -> tuple[list[str], dict[str, np.ndarray]]:
    """One example per CSV row, named ``FILE:LINE`` (the row's first line in the file)."""
    delimiter = "\t" if source.path.lower().endswith(".tsv") else ","
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    try:
        with open(source.path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            start = 2  # line 1 is the header
            for row in reader:
                if any((cell or "").strip() for cell in row.values() if isinstance(cell, str)):
                    rows.append(row)
                    lines.append(start)
                start = reader.line_num + 1
            header = reader.fieldnames or []
    except UnicodeDecodeError:
        raise InputError(f"{source.name} is not UTF-8 text") from None
    except (OSError, csv.Error) as error:
        raise InputError(f"{source.name} cannot be read as CSV: {error}") from None
    missing = [c for c in contract.feature_columns() if c not in header]
    if missing:
        raise InputError(
            f"{source.name} has no column {', '.join(repr(c) for c in missing)}"
            f" (the model takes {', '.join(contract.feature_columns())})"
        )
    if not rows:
        raise InputError(f"{source.name} has no rows")
    try:
        arrays = contract.encode_rows(rows, where="row")
    except DatasetError as error:
        # encode_rows counts rows from 1; the user finds a row by its line in the file.
        message = str(error)
        found = _ROW.match(message)
        if found is None:
            raise InputError(f"{source.name}: {message}") from None
        line = lines[int(found.group(1)) - 1]
        raise InputError(f"{source.name}, line {line}{message[found.end() :]}") from None
    return [f"{source.name}:{line}" for line in lines], arrays


def read_arrays(source: Source, contract: InputContract) -> tuple[list[str], dict[str, np.ndarray]]:
    """An .npz fed as it is: ``x`` for a one-Input model, else one array per Input name."""
    try:
        with np.load(source.path, allow_pickle=False) as archive:
            stored = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError) as error:
        raise InputError(f"{source.name} is not a readable .npz: {error}") from None
    wanted = [item.name for item in contract.inputs]
    if all(name in stored for name in wanted):
        chosen = {name: stored[name] for name in wanted}
    elif len(wanted) == 1 and "x" in stored:
        chosen = {wanted[0]: stored["x"]}
    else:
        needs = "'x'" + (f" or '{wanted[0]}'" if len(wanted) == 1 else "")
        if len(wanted) > 1:
            needs = "one array per Input: " + ", ".join(f"'{n}'" for n in wanted)
        raise InputError(
            f"{source.name} holds {', '.join(sorted(stored)) or 'no arrays'}; it needs {needs}"
        )
    counts = set()
    for item in contract.inputs:
        array = chosen[item.name]
        expected = item.shape
        fits = array.ndim == len(expected) + 1 and all(
            want is None or want == got for want, got in zip(expected, array.shape[1:], strict=True)
        )
        if not fits:
            shape = ", ".join("any" if s is None else str(s) for s in expected)
            raise InputError(
                f"{source.name}: array for Input '{item.name}' has shape {tuple(array.shape)};"
                f" the model takes (examples, {shape})"
            )
        if not np.issubdtype(array.dtype, np.number) and array.dtype != np.bool_:
            raise InputError(f"{source.name}: array for '{item.name}' is not numeric")
        counts.add(array.shape[0])
    if len(counts) != 1:
        raise InputError(f"{source.name}: the Inputs' arrays hold different numbers of examples")
    count = counts.pop()
    if count == 0:
        raise InputError(f"{source.name} holds no examples")
    return [f"{source.name}[{i}]" for i in range(count)], chosen


def to_model_inputs(inputs: Inputs, input_names: list[str]) -> Any:
    """``inputs`` as Keras' ``predict`` takes them: the array of a one-Input model, else a list
    in the model's Input order."""
    if len(input_names) == 1:
        return inputs.arrays[input_names[0]]
    return [inputs.arrays[name] for name in input_names]
