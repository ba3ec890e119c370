"""The demo page of a TF.js export: ``index.html`` + ``demo.js`` (package data under ``web/``),
``tf.min.js`` copied from the npm package, ``model-data.js`` and a ``README.md``.

``model-data.js`` embeds model.json, the weights (base64) and the first sample, loaded with a plain
``<script src>``: opened from disk (file://) a browser refuses the fetch() that
``tf.loadLayersModel('model.json')`` needs, so the page loads through ``tf.io.fromMemory``.
"""

from __future__ import annotations

import base64
import html
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.exporters.base import ExportContext
from layerloom.exporters.input_docs import input_section
from layerloom.exporters.text_formats import markdown
from layerloom.exporters.tfjs_format import read_model

WEB = Path(__file__).with_name("web")


def _first_row(array: Any, dtype: str) -> list[float] | list[int]:
    row = np.asarray(array)[0].reshape(-1)
    return [int(v) for v in row] if "int" in dtype else [float(v) for v in row.astype(np.float32)]


def page_data(ctx: ExportContext, document: dict[str, Any], weights: bytes) -> dict[str, Any]:
    """What demo.js reads: signature, labels, a sample and the model itself."""
    outputs = []
    for name in ctx.plan.outputs:
        shape = list(ctx.model.get_layer(name).output.shape[1:])
        outputs.append({"name": name, "shape": shape, "dtype": "float32"})
    return {
        "name": ctx.model_name,
        "task": ctx.task,
        "labels": ctx.class_names,
        "inputs": [
            {
                "name": item.name,
                "shape": list(item.shape),
                "dtype": "int32" if "int" in item.dtype else "float32",
            }
            for item in ctx.plan.inputs
        ],
        "outputs": outputs,
        "sample": {
            item.name: _first_row(ctx.sample[item.name], item.dtype) for item in ctx.plan.inputs
        },
        "modelTopology": document["modelTopology"],
        "weightSpecs": [spec for group in document["weightsManifest"] for spec in group["weights"]],
        "weights": base64.b64encode(weights).decode("ascii"),
    }


def _shape(shape: list[int | None]) -> str:
    text = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({text},)" if len(shape) == 1 else f"({text})"


def readme(data: dict[str, Any], runtime: str, input_words: str) -> str:
    example = data["inputs"][0]
    lines = [
        f"# {data['name']}: TensorFlow.js export",
        "",
        "Made by Layerloom. `model.json` + `group1-shard*.bin` are a TF.js *layers model*.",
        "",
        "## The demo page",
        "",
        "Double-click `index.html`: it runs the model on a sample at once and lets you try your own",
        "input. It works from disk because `model-data.js` embeds the model; to serve the folder",
        "instead, run `python -m http.server 8000` here and open <http://localhost:8000/>.",
        "",
        "## Using the model from your own JavaScript",
        "",
        "Serve `model.json` and the `.bin` files over http(s) (browsers refuse `fetch` from",
        "`file://`), load `tf.min.js` (or `npm install @tensorflow/tfjs`), then:",
        "",
        "```js",
        "const model = await tf.loadLayersModel('model.json');",
        f"const x = tf.tensor(values, [1, {', '.join(str(d) for d in example['shape'])}]"
        + (", 'int32');" if example["dtype"] == "int32" else ");"),
        "const y = model.predict(x);  // a list of tensors when the model has several outputs",
        "console.log(await y.data());",
        "```",
        "",
        "## Inputs",
        "",
        "| name | shape (without batch) | dtype |",
        "|---|---|---|",
    ]
    lines += [f"| `{i['name']}` | {_shape(i['shape'])} | {i['dtype']} |" for i in data["inputs"]]
    lines.append("")
    if len(data["inputs"]) > 1:
        lines += ["Pass several inputs to `predict` as a list, in the order above.", ""]
    lines.append(input_words)
    lines += [
        "## Outputs",
        "",
        "| name | shape (without batch) |",
        "|---|---|",
    ]
    lines += [f"| `{o['name']}` | {_shape(o['shape'])} |" for o in data["outputs"]]
    if data["labels"]:
        lines += [
            "",
            "Classes, by index: "
            + ", ".join(f"{i} = {markdown(n)}" for i, n in enumerate(data["labels"])),
        ]
    lines += ["", f"Layerloom compared it with Keras in {runtime}: see `parity.json`.", ""]
    return "\n".join(lines)


def write_page(ctx: ExportContext, tfjs_package: Path, runtime: str) -> list[Path]:
    """Write the page files next to model.json; returns them, index.html first."""
    document, weights = read_model(ctx.out_dir)
    data = page_data(ctx, document, weights)
    out = ctx.out_dir
    title = html.escape(ctx.model_name)
    template = (WEB / "index.html").read_text(encoding="utf-8")
    (out / "index.html").write_text(template.replace("{{TITLE}}", title), encoding="utf-8")
    shutil.copyfile(WEB / "demo.js", out / "demo.js")
    shutil.copyfile(tfjs_package / "dist" / "tf.min.js", out / "tf.min.js")
    # JSON is JavaScript; "<" escaped as well so no label can end a script block should the
    # data ever be inlined into the page.
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    (out / "model-data.js").write_text(
        f"// Generated by Layerloom: model.json, weights and a sample for the demo page.\n"
        f"window.LAYERLOOM_MODEL = {payload};\n",
        encoding="utf-8",
    )
    (out / "README.md").write_text(readme(data, runtime, input_section(ctx)), encoding="utf-8")
    names = ("index.html", "demo.js", "model-data.js", "tf.min.js", "README.md")
    return [out / name for name in names]
