"""Browser export: a TF.js layers model (``model.json`` + weight shards) and a demo page.

The pip ``tensorflowjs`` converter cannot read Keras 3 models, so the layers-model format is written
here (``tfjs_format``, ``tfjs_layers``). Parity runs the files in ``@tensorflow/tfjs`` under Node
through ``web/run_model.mjs``, loading them the same in-memory way the demo page does, on the
WebAssembly backend (``@tensorflow/tfjs-backend-wasm``; tfjs-node cannot be installed), or on the
pure JavaScript CPU backend for a model the wasm backend cannot run (a kernel it lacks).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.exporters.base import (
    TOLERANCE_OPTION,
    Artifact,
    ExportContext,
    Exporter,
    ExportError,
)
from layerloom.exporters.tfjs_format import (
    JsLayer,
    input_layer,
    topology,
    weight_entries,
    write_model,
)
from layerloom.exporters.tfjs_layers import SIMPLE, Node, Unsupported, default
from layerloom.exporters.tfjs_limits import LIMITS, unfaithful_masks
from layerloom.exporters.tfjs_rebuilt import REBUILT
from layerloom.nodes.export_capabilities import GraphStep
from layerloom.nodes.plan import BuildPlan

REPO = Path(__file__).resolve().parents[1]  # the folder holding package.json
RUNNER = Path(__file__).with_name("web") / "run_model.mjs"
NODE_TIMEOUT_S = 300  # a big model on the pure-JS CPU backend (the fallback) is slow, not this slow


def node_modules() -> Path:
    """Where ``npm ci`` put @tensorflow/tfjs (``LAYERLOOM_NODE_MODULES`` overrides)."""
    override = os.environ.get("LAYERLOOM_NODE_MODULES")
    return Path(override) if override else REPO / "node_modules"


def tfjs_package() -> Path:
    return node_modules() / "@tensorflow" / "tfjs"


@lru_cache(maxsize=4)
def _node_version(node: str) -> str:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip().lstrip("v") or "unknown"


def tfjs_version() -> str:
    package = json.loads((tfjs_package() / "package.json").read_text(encoding="utf-8"))
    return str(package.get("version", "unknown"))


def _mask_steps(plan: BuildPlan) -> list[GraphStep]:
    """The plan as the declared padding-mask rule reads it (the editor reads the graph so)."""
    return [
        GraphStep(
            step.name,
            step.name,
            step.class_name,
            tuple(source for _, source in step.inputs),
            step.config,
        )
        for step in plan.layers
    ]


def _weights(layer: Any) -> dict[str, np.ndarray]:
    """The layer's weights by path inside it ("kernel", "lstm_cell/bias", "query/kernel")."""
    if type(layer).__name__ == "Normalization":
        # What call() uses: the adapted statistics (or the config's), broadcast-shaped.
        import keras

        return {
            "mean": keras.ops.convert_to_numpy(layer.mean),
            "variance": keras.ops.convert_to_numpy(layer.variance),
        }
    prefix = f"{layer.name}/"
    return {
        (w.path[len(prefix) :] if w.path.startswith(prefix) else w.path.rsplit("/")[-1]): (
            np.asarray(w.numpy())
        )
        for w in layer.weights
    }


def convert(model: Any, plan: BuildPlan) -> list[JsLayer]:
    """Every tfjs layer of the model, inputs first; ExportError names a node tfjs cannot take."""
    masked = unfaithful_masks(_mask_steps(plan))
    if masked:
        reader, reason = masked[0]
        kind = next(step.class_name for step in plan.layers if step.name == reader)
        raise ExportError(f"node '{reader}' ({kind}) cannot go to TF.js: {reason}")
    layers = [input_layer(item.name, list(item.shape), item.dtype) for item in plan.inputs]
    for step in plan.layers:
        keras_layer = model.get_layer(step.name)
        node = Node(
            name=step.name,
            class_name=type(keras_layer).__name__,
            config=keras_layer.get_config(),
            sources=[source for _, source in step.inputs],
            ports=[port for port, _ in step.inputs],
            shapes=[tuple(model.get_layer(src).output.shape[1:]) for _, src in step.inputs],
            output_shape=tuple(keras_layer.output.shape[1:]),
            weights=_weights(keras_layer),
        )
        translator = REBUILT.get(node.class_name) or SIMPLE.get(node.class_name) or default
        try:
            layers.extend(translator(node))
        except Unsupported as reason:
            label = step.type_id.rsplit(".", 1)[-1]
            raise ExportError(
                f"node '{step.name}' ({label}) cannot go to TF.js: {reason}"
            ) from None
    seen: set[str] = set()
    for layer in layers:  # rebuilt layers are named "<node>__<part>"; a node could clash
        if layer.name in seen:
            raise ExportError(f"two TF.js layers would be named '{layer.name}'; rename that node")
        seen.add(layer.name)
    return layers


class TFJSExporter(Exporter):
    target = "tfjs"
    title = "Browser (TF.js)"
    summary = "A TF.js layers model (model.json + weights) with a demo web page that runs it"
    options = (TOLERANCE_OPTION,)
    requires = ("exe:node",)
    limits = LIMITS

    def unavailable(self) -> str | None:
        missing = super().unavailable()
        if missing:
            return missing
        if not (tfjs_package() / "dist" / "tf.min.js").is_file():
            return (
                f"{self.title} needs the npm package @tensorflow/tfjs, which is not installed "
                f"in {node_modules()}: run `npm ci` in {REPO}"
            )
        return None

    def export(self, ctx: ExportContext) -> Artifact:
        import keras

        from layerloom.exporters.tfjs_page import write_page

        problem = self.unavailable()
        if problem:
            raise ExportError(problem)
        ctx.progress("translating the layers for TF.js")
        layers = convert(ctx.model, ctx.plan)
        ctx.progress("writing model.json and the weight shards")
        inputs = [item.name for item in ctx.plan.inputs]
        model_topology = topology(ctx.model_name, layers, inputs, list(ctx.plan.outputs))
        weights = weight_entries(layers)
        files = write_model(ctx.out_dir, model_topology, weights, f"keras v{keras.version()}")
        ctx.progress("writing the demo page")
        # The page's README names no backend: only parity.json knows the one that really ran.
        files += write_page(ctx, tfjs_package(), _runtime(None))
        runtime = _runtime("WASM")  # the intended backend; predict() corrects it on a fallback
        details = {
            "layers": len(layers),
            "weights_bytes": int(sum(array.nbytes for _, array in weights)),
            "shards": len([f for f in files if f.suffix == ".bin"]),
            "page": "index.html",
        }
        return Artifact(files, runtime, details)

    def predict(self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]) -> list[Any]:
        with tempfile.TemporaryDirectory(prefix="layerloom-tfjs-") as scratch:
            outputs, ran = _call_node(ctx.out_dir, ctx.plan, inputs, Path(scratch))
        # Which backend computed the outputs is known only now: run_export reads the artifact's
        # runtime and details after predict, so the report names the one that really ran.
        artifact.details["backend"] = ran["backend"]
        if ran["backend"] == "wasm":
            artifact.details["wasm_simd"] = bool(ran.get("simd"))
        else:
            artifact.details["wasm_failure"] = ran.get("fallback")
            artifact.runtime = _runtime(_fallback_label(ran.get("fallback")))
        return outputs


def _runtime(backend: str | None) -> str:
    """Like "TensorFlow.js 4.22.0 (Node 20.1.0, WASM)"; without the backend when it is None."""
    versions = f"TensorFlow.js {tfjs_version()} (Node {_node_version(_which_node())}"
    return f"{versions}, {backend})" if backend else f"{versions})"


def _fallback_label(reason: str | None) -> str:
    """The runtime's backend part when 'cpu' ran the model instead of 'wasm'."""
    missing = re.search(r"Kernel '(\w+)' not registered for backend 'wasm'", reason or "")
    if missing:
        return f"CPU, as WASM has no {missing.group(1)} kernel"
    return "CPU, as WASM could not run it"


def _which_node() -> str:
    found = shutil.which("node")
    if found is None:
        raise ExportError("Browser (TF.js) needs the program 'node', which is not on PATH")
    return found


def run_in_node(
    model_dir: Path, plan: BuildPlan, inputs: dict[str, Any], scratch: Path
) -> list[np.ndarray]:
    """The exported model's outputs for ``inputs``, computed by tfjs in Node."""
    return _call_node(model_dir, plan, inputs, scratch)[0]


def latency_in_node(model_dir: Path, plan: BuildPlan, inputs: dict[str, Any], repeat: int) -> float:
    """Median seconds of one prediction inside Node, the model loaded and warm (benchmarks)."""
    with tempfile.TemporaryDirectory(prefix="layerloom-tfjs-") as scratch:
        return float(_call_node(model_dir, plan, inputs, Path(scratch), repeat)[1]["seconds"])


def _call_node(
    model_dir: Path, plan: BuildPlan, inputs: dict[str, Any], scratch: Path, repeat: int = 0
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The outputs, and how they were computed: ``backend`` ("wasm" or "cpu"), ``simd``,
    ``fallback`` (why wasm did not run it, or None) and ``seconds`` (per prediction, if timed)."""
    described, blobs, offset = [], [], 0
    for item in plan.inputs:
        array = np.asarray(inputs[item.name])
        array = array.astype("<i4" if "int" in item.dtype else "<f4", copy=False)
        blob = np.ascontiguousarray(array).tobytes()
        described.append(
            {
                "name": item.name,
                "dtype": "int32" if "int" in item.dtype else "float32",
                "shape": list(array.shape),
                "offset": offset,
                "bytes": len(blob),
            }
        )
        blobs.append(blob)
        offset += len(blob)
    (scratch / "inputs.bin").write_bytes(b"".join(blobs))
    request = {
        "data": "inputs.bin",
        "inputs": described,
        "outputs": "outputs.bin",
        "result": "result.json",
        "repeat": repeat,
    }
    (scratch / "request.json").write_text(json.dumps(request), encoding="utf-8")
    command = [_which_node(), str(RUNNER), str(node_modules()), str(model_dir)]
    command.append(str(scratch / "request.json"))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=NODE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ExportError(f"TF.js in Node took longer than {NODE_TIMEOUT_S} s") from None
    result_file = scratch / "result.json"
    if not result_file.is_file():
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise ExportError(f"TF.js in Node failed (exit {done.returncode}): {lines[-1]}")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    if "error" in result:
        first = str(result["error"]).strip().splitlines() or ["unknown error"]
        raise ExportError(f"TF.js could not run the model: {first[0]}")
    data = np.frombuffer((scratch / "outputs.bin").read_bytes(), dtype="<f4")
    outputs, start = [], 0
    for item in result["outputs"]:
        size = int(np.prod(item["shape"]))
        outputs.append(data[start : start + size].reshape(item["shape"]).copy())
        start += size
    ran = {key: result.get(key) for key in ("backend", "simd", "fallback")}
    return outputs, {**ran, "seconds": result.get("seconds_per_predict")}
