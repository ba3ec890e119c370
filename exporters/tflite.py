"""The phone target: a ``.tflite`` flat buffer for the stock LiteRT interpreter (Android, iOS).

Conversion freezes the model's inference function (one named ``TensorSpec`` per graph Input, the
batch dimension left open) into a graph of constants, and Layerloom then writes a
``serving_default`` signature whose keys are the graph's node names into the ``.tflite``. Phone code
and ``predict`` map inputs and outputs through that signature, never through tensor names (TF
picks those: ``Identity_1``) or positions.

Only builtin ops are allowed (no Flex delegate on phones by default, none in Python here), which is
why recurrent layers are rebuilt unrolled: their TensorList loop needs SELECT_TF_OPS otherwise.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from layerloom.exporters.base import (
    AGREEMENT_OPTION,
    TOLERANCE_OPTION,
    Artifact,
    ExportContext,
    Exporter,
    ExportError,
    Tolerance,
)
from layerloom.exporters.tflite_docs import readme
from layerloom.exporters.tflite_limits import LIMITS
from layerloom.nodes.params import Choice, Float
from layerloom.nodes.plan import BuildPlan, PlanLayer

QUANTIZATIONS = ("float32", "dynamic", "float16", "int8")
QUANTIZATION_OPTION = Choice(
    "quantization",
    "float32",
    "float32: exact; dynamic: int8 weights, float inputs/outputs (~4x smaller); "
    "float16: half-size weights; "
    "int8: full integer model with int8 inputs and outputs (smallest, fastest, for NPUs/DSPs)",
    choices=QUANTIZATIONS,
)
# Quantised regression has no class to agree on, so its outputs are held to an absolute bound. It is
# in the output's own units: int8 steps are (output range)/256, and errors add up through the
# layers, so 0.1 suits outputs of roughly unit range (sigmoid reconstructions, standardised
# targets); raise it for targets on a larger scale.
QUANTIZED_ERROR_OPTION = Float(
    "max_quantized_error",
    0.1,
    "parity (quantised, regression): the largest difference from Keras allowed in any output "
    "value, in the output's units (raise it for outputs far from the 0..1 range)",
    min=0.0,
)
RECURRENT = ("LSTM", "GRU", "SimpleRNN")
SIGNATURE = "serving_default"
MODEL_FILE = "model.tflite"


class TFLiteExporter(Exporter):
    target = "tflite"
    title = "Phone (TF Lite)"
    summary = "A .tflite model for the LiteRT interpreter on Android and iOS, with usage snippets"
    options = (QUANTIZATION_OPTION, TOLERANCE_OPTION, AGREEMENT_OPTION, QUANTIZED_ERROR_OPTION)
    requires = ("tensorflow", "ai_edge_litert")
    limits = LIMITS

    def needs_calibration(self, options: dict[str, Any]) -> str | None:
        if options.get("quantization") == "int8":
            return "int8 quantisation is calibrated on the project's training data"
        return None

    def tolerance(self, options: dict[str, Any], classification: bool) -> Tolerance:
        if options.get("quantization", "float32") == "float32":
            return Tolerance(max_abs_error=float(options.get("max_abs_error", 1e-4)))
        return quantized_tolerance(options, classification)

    def export(self, ctx: ExportContext) -> Artifact:
        mode = ctx.options["quantization"]
        model, unrolled = conversion_model(ctx)
        if unrolled:
            ctx.progress(f"unrolled recurrent layers for TF Lite: {', '.join(unrolled)}")
        ctx.progress(f"running the TF Lite converter ({mode})")
        flatbuffer = convert(ctx, model)
        path = ctx.out_dir / MODEL_FILE
        path.write_bytes(flatbuffer)
        ctx.progress("loading the model into the LiteRT interpreter")
        interpreter = load_interpreter(path)
        details = {
            "quantization": mode,
            "size_bytes": len(flatbuffer),
            "signature": SIGNATURE,
            "inputs": tensor_details(interpreter, ctx.plan, "inputs"),
            "outputs": tensor_details(interpreter, ctx.plan, "outputs"),
            "unrolled": unrolled,
        }
        files = [path]  # input.json and labels.txt: run_export writes them for every target
        ctx.progress("writing the README with Android and iOS snippets")
        notes = ctx.out_dir / "README.md"
        notes.write_text(readme(ctx, details), encoding="utf-8")
        files.append(notes)
        return Artifact(files, runtime(), details, handle=interpreter)

    def predict(self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]) -> list[Any]:
        interpreter = artifact.handle or load_interpreter(artifact.files[0])
        where = _by_node(interpreter, ctx.plan)
        batch = len(next(iter(inputs.values())))
        for item in ctx.plan.inputs:
            index = where["inputs"][item.name]
            interpreter.resize_tensor_input(index, [batch, *np.shape(inputs[item.name])[1:]])
        interpreter.allocate_tensors()
        by_index = {d["index"]: d for d in interpreter.get_input_details()}
        for item in ctx.plan.inputs:
            detail = by_index[where["inputs"][item.name]]
            interpreter.set_tensor(
                detail["index"], to_tensor(np.asarray(inputs[item.name]), detail)
            )
        interpreter.invoke()
        out_details = {d["index"]: d for d in interpreter.get_output_details()}
        results = []
        for name in ctx.plan.outputs:
            detail = out_details[where["outputs"][name]]
            results.append(from_tensor(interpreter.get_tensor(detail["index"]), detail))
        return results


# --- the model to convert ---------------------------------------------------------------------


def quantized_tolerance(options: dict[str, Any], classification: bool) -> Tolerance:
    """A quantised model's parity rule: classes keep their top-1 (other outputs, and regression
    values, within ``max_quantized_error``). The TF Lite and microcontroller exports share it."""
    if classification:
        return Tolerance(
            min_top1_agreement=float(options.get("min_top1_agreement", 0.95)),
            other_outputs_max_abs_error=float(options.get("max_quantized_error", 0.1)),
        )
    return Tolerance(max_abs_error=float(options.get("max_quantized_error", 0.1)))


def conversion_model(ctx: ExportContext) -> tuple[Any, list[str]]:
    """``ctx.model``, or a copy (same weights) with its recurrent layers in their inference form,
    and the names of the layers that were unrolled.

    A rolled loop becomes TensorList ops that only the Flex delegate runs; an unrolled one is plain
    builtin ops, one block per time step, so it needs a known sequence length. A recurrent layer
    with dropout advances its seed variable even at inference, which a frozen graph cannot hold;
    dropout does nothing at inference, so the copy has none.
    """
    unrolled: list[str] = []
    layers: list[PlanLayer] = []
    for layer in ctx.plan.layers:
        config = inference_config(layer)
        if config is not None:
            if not _cell_config(layer.config).get("unroll"):
                steps = ctx.model.get_layer(layer.name).input.shape[1]
                if steps is None:
                    raise ExportError(
                        f"node '{layer.name}' ({layer.class_name}): TF Lite needs a fixed "
                        "sequence length; set the Input's time steps"
                    )
                unrolled.append(layer.name)
            layer = replace(layer, config=config)
        layers.append(layer)
    if layers == list(ctx.plan.layers):
        return ctx.model, []
    from layerloom.nodes.keras_build import build_model

    model = build_model(replace(ctx.plan, layers=layers))
    model.set_weights(ctx.model.get_weights())
    return model, unrolled


INFERENCE_FORM = {"unroll": True, "dropout": 0.0, "recurrent_dropout": 0.0}


def inference_config(layer: PlanLayer) -> dict[str, Any] | None:
    """A recurrent layer's config unrolled and without dropout, or None when the layer is not
    recurrent or already is so."""
    if layer.class_name in RECURRENT:
        wanted = {**layer.config, **INFERENCE_FORM}
        return wanted if wanted != layer.config else None
    if layer.class_name == "Bidirectional":
        config = dict(layer.config)
        for key in ("layer", "backward_layer"):
            inner = config.get(key)
            if isinstance(inner, dict):
                config[key] = {**inner, "config": {**inner["config"], **INFERENCE_FORM}}
        return config if config != layer.config else None
    return None


def _cell_config(config: dict[str, Any]) -> dict[str, Any]:
    """The recurrent config itself, looking through a Bidirectional wrapper."""
    return config["layer"]["config"] if "layer" in config else config


def signature_key(name: str) -> str:
    """A node name as a TensorSpec name (TF refuses some characters); Layerloom names pass as is."""
    key = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    return key if re.match(r"[A-Za-z0-9.]", key) else f"x{key}"


def inference_function(model: Any, plan: BuildPlan, batch: int | None = None) -> Any:
    """``model`` called for inference, traced once with a dynamic batch dimension (or ``batch``:
    microcontrollers want fixed shapes) and the Inputs' names on its input tensors; its outputs
    are in the plan's output order."""
    import tensorflow as tf

    specs = [
        tf.TensorSpec([batch, *item.shape], tf.as_dtype(item.dtype), name=signature_key(item.name))
        for item in plan.inputs
    ]

    def serve(*tensors: Any) -> list[Any]:
        result = model(list(tensors), training=False)
        return list(result) if isinstance(result, (list, tuple)) else [result]

    return tf.function(serve, autograph=False).get_concrete_function(*specs)


def with_signature(flatbuffer: bytes, plan: BuildPlan) -> bytes:
    """The model with one ``serving_default`` signature keyed by node names.

    Phone code (and our own parity check) finds tensors by these keys, so a model with several
    inputs or outputs is fed in the graph's terms, not by tensor position. The frozen-graph route
    writes no signature; its subgraph lists inputs and outputs in the traced function's order,
    which is the plan's order.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    tree = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    graph = tree.subgraphs[0]

    def keyed(names: list[str], indices: Any) -> list[Any]:
        maps = []
        for name, index in zip(names, indices, strict=True):
            entry = schema.TensorMapT()
            entry.name, entry.tensorIndex = signature_key(name), int(index)
            maps.append(entry)
        return maps

    signature = schema.SignatureDefT()
    signature.signatureKey = SIGNATURE
    signature.subgraphIndex = 0
    signature.inputs = keyed([item.name for item in plan.inputs], graph.inputs)
    signature.outputs = keyed(list(plan.outputs), graph.outputs)
    tree.signatureDefs = [signature]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree))


# --- conversion -------------------------------------------------------------------------------


def convert(ctx: ExportContext, model: Any, batch: int | None = None) -> bytes:
    """The flat buffer with its signature; ``batch`` fixes the batch dimension (None: dynamic)."""
    import tensorflow as tf

    mode = ctx.options["quantization"]
    function = None
    try:
        # Tracing with a dynamic batch can fail too (a layer that needs static sizes): it is
        # the same "cannot convert" for the user, so both stages share the error handling.
        function = inference_function(model, ctx.plan, batch)
        converter = tf.lite.TFLiteConverter.from_concrete_functions([function], model)
        # Freeze the variables into the graph directly. The default lowers the function to a
        # temporary SavedModel first: slower (a write and two reloads) and, with Keras 3
        # variables, the converted model reads them uninitialised (NaN outputs).
        converter.experimental_lower_to_saved_model = False
        configure(converter, ctx)
        with warnings.catch_warnings():
            # int8 calibration runs TF's own deprecated tf.lite.Interpreter; not ours to fix.
            warnings.filterwarnings("ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")
            flatbuffer = converter.convert()
    except ExportError:
        raise
    except Exception as error:  # noqa: BLE001 - TF raises many kinds, all meaning "cannot"
        graph = function.graph if function is not None else None
        raise conversion_error(error, ctx.plan, mode, graph) from error
    return with_signature(flatbuffer, ctx.plan)


def configure(converter: Any, ctx: ExportContext) -> None:
    import tensorflow as tf

    mode = ctx.options["quantization"]
    # Builtins only: a model that needs the Flex delegate would not run on a stock interpreter.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
        examples = calibration_examples(ctx)
        ctx.progress(f"calibrating int8 ranges on {len(examples)} examples")
        converter.representative_dataset = lambda: iter(examples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # Phones' NPUs/DSPs want integer tensors at the edges too; the converter leaves integer
        # inputs (token ids) as they are and changes only float ones.
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8


def calibration_examples(ctx: ExportContext) -> list[list[np.ndarray]]:
    """Representative examples, each a list in the model's input order (a frozen graph has no
    signature to key them by); the parity batch's rows when none were given."""
    examples = ctx.representative
    if not examples:
        rows = len(next(iter(ctx.sample.values())))
        examples = [
            {name: batch[i : i + 1] for name, batch in ctx.sample.items()} for i in range(rows)
        ]
    if not examples:
        raise ExportError("int8 quantisation needs calibration examples, and none were given")
    return [
        [np.asarray(example[item.name], dtype=item.dtype) for item in ctx.plan.inputs]
        for example in examples
    ]


def conversion_error(
    error: Exception, plan: BuildPlan, mode: str, graph: Any = None
) -> ExportError:
    """One readable line: the first error in TF's message, naming the node when it can be found.

    The converter's messages name the failing op's type (``'tf.ResizeBicubic' op is ...``); the
    traced ``graph`` has that op under the Keras layer's name scope (``model/enlarge_1/...``). A
    tracing failure names only the layer class ("when calling UpSampling2D.call()"), which
    identifies the node when one node has that class.
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # Keras colours its messages
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    flagged = [line.split("error:", 1)[1].strip() for line in lines if "error:" in line]
    if flagged:
        reason = flagged[0]
        # The location prefix (loc(fused[...])) names ops, not nodes; keep the message after it.
        match = re.search(r"'(tf|tfl)\.[^']+'.*", reason)
        reason = match.group(0) if match else reason
    else:
        told = [line for line in lines if not line.startswith("Exception encountered when")]
        reason = (told or lines or [type(error).__name__])[0]
    if len(reason) > 200:
        reason = reason.split(". ", 1)[0][:200]
    op_type = re.search(r"'tf\.(\w+)' op", reason)
    if graph is not None and op_type:
        failing = [op.name for op in graph.get_operations() if op.type == op_type.group(1)]
        text = "error: " + " ".join(failing) + "\n" + text
    return ExportError(f"TF Lite ({mode}) cannot convert {_culprit(text, plan)}: {reason}")


def _culprit(text: str, plan: BuildPlan) -> str:
    # The first error's line locates the failing op; later lines dump the whole graph, which
    # mentions every node. Keras may suffix a name scope ("enlarge_1/enlarge_1/resize/...").
    first = next((line for line in text.splitlines() if "error:" in line), text)
    by_length = sorted(plan.layers, key=lambda item: -len(item.name))
    for suffix in ("", r"(_\d+)?"):
        for layer in by_length:
            name = re.escape(layer.name) + suffix
            if re.search(rf"(^|[^A-Za-z0-9_]){name}([^A-Za-z0-9_]|$)", first):
                return f"node '{layer.name}' ({layer.class_name})"
    called = re.search(r"when calling (\w+)\.call", text)
    if called:
        same = [layer for layer in plan.layers if layer.class_name == called.group(1)]
        if len(same) == 1:
            return f"node '{same[0].name}' ({same[0].class_name})"
        return f"a {called.group(1)} node"
    return "the model"


# --- the interpreter --------------------------------------------------------------------------


def runtime() -> str:
    try:
        return f"LiteRT {version('ai-edge-litert')} interpreter"
    except PackageNotFoundError:
        return "LiteRT interpreter"


def load_interpreter(path: Any) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path))


def signature_indices(interpreter: Any) -> dict[str, dict[str, int]]:
    """Signature key (a node name, see ``signature_key``) -> tensor index, inputs and outputs."""
    if SIGNATURE not in interpreter.get_signature_list():
        raise ExportError(f"the TF Lite model has no '{SIGNATURE}' signature")
    runner = interpreter.get_signature_runner(SIGNATURE)
    return {
        "inputs": {key: d["index"] for key, d in runner.get_input_details().items()},
        "outputs": {key: d["index"] for key, d in runner.get_output_details().items()},
    }


def _by_node(interpreter: Any, plan: BuildPlan) -> dict[str, dict[str, int]]:
    raw = signature_indices(interpreter)
    names = {"inputs": [i.name for i in plan.inputs], "outputs": list(plan.outputs)}
    out: dict[str, dict[str, int]] = {}
    for kind, wanted in names.items():
        out[kind] = {}
        for name in wanted:
            key = signature_key(name)
            if key not in raw[kind]:
                raise ExportError(f"the TF Lite model has no {kind[:-1]} named '{name}'")
            out[kind][name] = raw[kind][key]
    return out


def tensor_details(interpreter: Any, plan: BuildPlan, kind: str) -> list[dict[str, Any]]:
    """JSON-able facts per input/output in the plan's order, with its position in the
    interpreter's input/output list (what index-based APIs such as Swift's ``input(at:)`` use)."""
    indices = _by_node(interpreter, plan)[kind]
    listed = (
        interpreter.get_input_details() if kind == "inputs" else interpreter.get_output_details()
    )
    position = {d["index"]: i for i, d in enumerate(listed)}
    by_index = {d["index"]: d for d in listed}
    facts = []
    for name, index in indices.items():
        detail = by_index[index]
        scale, zero_point = detail["quantization"]
        facts.append(
            {
                "name": name,
                "position": position[index],
                "tensor": detail["name"],
                "shape": [None if d < 0 else int(d) for d in detail["shape_signature"]],
                "dtype": np.dtype(detail["dtype"]).name,
                "quantization": (
                    {"scale": float(scale), "zero_point": int(zero_point)} if scale else None
                ),
            }
        )
    return facts


def to_tensor(values: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """A batch as the input tensor wants it: quantised when the tensor is int8/uint8 with a scale."""
    dtype = np.dtype(detail["dtype"])
    scale, zero_point = detail["quantization"]
    if scale and dtype in (np.int8, np.uint8) and not np.issubdtype(values.dtype, np.integer):
        info = np.iinfo(dtype)
        quantised = np.round(values.astype(np.float64) / scale) + zero_point
        return np.clip(quantised, info.min, info.max).astype(dtype)
    return values.astype(dtype)


def from_tensor(values: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """An output tensor as floats comparable with Keras: dequantised when it is quantised."""
    scale, zero_point = detail["quantization"]
    if scale and np.issubdtype(values.dtype, np.integer):
        return (values.astype(np.float32) - zero_point) * np.float32(scale)
    return values.astype(np.float32)
