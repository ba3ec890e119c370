"""What every export says about its input, written once for every target.

Each export folder gets ``input.json`` (the run's input contract, ``nodes.datasets.contract``:
what the model takes raw, machine-readable), ``labels.txt`` when the model names classes, and an
"## Input" section in its README: the contract's words (names, order, dtype, range, shape, how to
resize and convert an image), plus, for CSV data, a Python snippet that reads ``input.json`` and
encodes one real row of the training file, with the vector it prints. ``run_export`` writes the
files for every target; each README writer places ``input_section`` where its README reads best.

Everything from the user's data (column names, categories, labels) goes into Markdown through
``text_formats.markdown`` and into the snippet as JSON string literals, never verbatim.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from layerloom.exporters.base import ExportContext
from layerloom.exporters.text_formats import LABELS_TXT_NOTE, labels_txt, markdown
from layerloom.nodes.datasets.contract import CONTRACT_FILE, InputContract
from layerloom.nodes.errors import DatasetError

LABELS_FILE = "labels.txt"
INPUT_HEADING = "## Input"

# Kept short and dependency-free on purpose: it is the reference encoder a user copies into any
# Python, and the tests run it from the README against ``InputContract.encode_rows``.
TABLE_ENCODER = '''import json

with open("input.json", encoding="utf-8") as handle:
    contract = json.load(handle)


def encode(row):
    """One row (column name -> cell text) as the model's inputs: Input name -> list of floats."""
    inputs = {}
    for input_name, columns in contract["columns"].items():
        vector = []
        for column in columns:
            cell = str(row[column["name"]]).strip()
            if column["kind"] == "categorical":
                if cell not in column["vocabulary"]:
                    raise ValueError(f"{column['name']}: {cell!r} was not in the training data")
                vector += [1.0 if cell == value else 0.0 for value in column["vocabulary"]]
            else:
                vector.append(float(cell))
        inputs[input_name] = vector
    return inputs
'''

IMAGE_DECODER = """import tensorflow as tf

image = tf.io.decode_image(tf.io.read_file("photo.jpg"), channels={channels},
                           expand_animations=False)
image = tf.image.resize(image, ({height}, {width}))  # bilinear, values stay 0..255
batch = tf.expand_dims(image, 0)  # float32, shape (1, {height}, {width}, {channels})
"""


def write_input_files(ctx: ExportContext) -> list[Path]:
    """``input.json`` and (classes only) ``labels.txt`` in the export folder; the files written."""
    contract = ctx.input_contract()
    written = ctx.out_dir / CONTRACT_FILE
    text = json.dumps(contract.to_json(), indent=1, ensure_ascii=False) + "\n"
    written.write_text(text, encoding="utf-8")
    files = [written]
    if ctx.class_names:
        labels = ctx.out_dir / LABELS_FILE
        labels.write_text(labels_txt(ctx.class_names), encoding="utf-8")
        files.append(labels)
    return files


def input_section(ctx: ExportContext) -> str:
    """The README's "## Input" section (Markdown, ending with a blank line)."""
    contract = ctx.input_contract()
    lines = [INPUT_HEADING, "", *contract.describe(quote=markdown), ""]
    lines.append(
        f"`{CONTRACT_FILE}` states the same, machine-readable: the Inputs, "
        + {
            "image": "the image size, colour and resize method",
            "table": "every column in order, with each categorical column's values",
            "array": "their shapes and dtypes",
        }.get(contract.kind, "their shapes and dtypes")
        + ", and the classes."
    )
    if ctx.class_names:
        lines.append(
            f"`{LABELS_FILE}` lists the {len(ctx.class_names)} class names, one a line; line N is"
            f" class N ({LABELS_TXT_NOTE})."
        )
    lines.append("")
    if contract.kind == "table":
        lines += _table_example(contract, ctx.example_row)
    elif contract.kind == "image" and contract.image is not None:
        rule = contract.image
        lines += [
            "An image file prepared as training prepared it:",
            "",
            *_fenced(
                "python",
                IMAGE_DECODER.format(channels=rule.channels, height=rule.height, width=rule.width),
            ),
            "",
        ]
    return "\n".join(lines) + "\n"


def _table_example(contract: InputContract, row: dict[str, str] | None) -> list[str]:
    """The encoder snippet, run on one real row of the data, with the vector it prints."""
    lines = ["One input row from a row of the training file, with `input.json`:", ""]
    code = TABLE_ENCODER
    shown = ""
    if row is not None:
        try:
            encoded = contract.encode_rows([row])
        except DatasetError:
            encoded = None
        if encoded is not None:
            kept = {name: row[name] for name in contract.feature_columns()}
            code += (
                "\n\n# A row of the training file (the target column may stay: it is not read)\n"
                f"row = {_literal(kept)}\n"
                "print(json.dumps(encode(row)))\n"
            )
            shown = json.dumps(
                {
                    name: [float(str(np.float32(v))) for v in vector[0]]
                    for name, vector in encoded.items()
                }
            )
    lines += _fenced("python", code)
    if shown:
        lines += ["", "prints (feed each list as float32, shape (1, length)):", ""]
        lines += _fenced("json", shown + "\n")
    lines.append("")
    return lines


def _literal(row: dict[str, str]) -> str:
    """``row`` as a Python dict literal (JSON strings are Python strings); "<" escaped as well, so
    no cell shows up as HTML in a README viewer that mishandles code blocks."""
    return json.dumps(row, ensure_ascii=False).replace("<", "\\u003c")


def _fenced(language: str, code: str) -> list[str]:
    """``code`` in a Markdown code fence longer than any backtick run inside it (a cell from the
    user's data may hold backticks, which would otherwise close the fence)."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *code.rstrip("\n").split("\n"), fence]


def expected_line(labels: list[str] | None, scores: np.ndarray) -> str:
    """'class 2 (name), score 0.93' for one example's class scores; for the READMEs."""
    flat = np.asarray(scores, dtype=np.float64).reshape(-1)
    if flat.size == 1 and labels and len(labels) == 2:  # one sigmoid unit: P(class 1)
        best = int(flat[0] >= 0.5)
        return f"class {best} ({markdown(labels[best])}), P(class 1) = {flat[0]:.4f}"
    best = int(np.argmax(flat))
    name = f" ({markdown(labels[best])})" if labels and best < len(labels) else ""
    return f"class {best}{name}, score {flat[best]:.4f}"
