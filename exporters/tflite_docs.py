"""The README shipped next to a ``.tflite`` file: what goes in, what comes out, and working Android
(Kotlin) and iOS (Swift) snippets filled in with this model's names, shapes and quantisation.

Pure text from the export's details (``exporters.tflite.tensor_details``) and the build plan; no
TensorFlow here.
"""

from __future__ import annotations

from math import prod
from typing import Any

from layerloom.exporters.base import ExportContext
from layerloom.exporters.input_docs import input_section
from layerloom.nodes.plan import PlanLayer

# The Interpreter API's Android artifact (Java package org.tensorflow.lite); the 1.x line is the
# one Google maintains for the Interpreter API.
ANDROID_DEPENDENCY = 'implementation("com.google.ai.edge.litert:litert:1.4.1")'
IOS_DEPENDENCY = "pod 'TensorFlowLiteSwift'"
QUANTIZATION_TEXT = {
    "float32": "none: float32 weights and maths, the same numbers as Keras",
    "dynamic": "dynamic range: int8 weights, activations quantised on the fly by the ops that "
    "support it; float32 inputs and outputs",
    "float16": "float16 weights (run as float16 on GPU delegates, float32 on the CPU)",
    "int8": "full integer: int8 weights and maths; float inputs and outputs are int8 tensors",
}
KOTLIN_ARRAYS = {"float32": ("FloatArray", "Float"), "int8": ("ByteArray", "Byte")}
KOTLIN_ARRAYS |= {"int32": ("IntArray", "Int"), "int64": ("LongArray", "Long")}
SWIFT_TYPES = {"float32": "Float32", "int8": "Int8", "int32": "Int32", "int64": "Int64"}
# Generated variable names must not be keywords of either language (a node may be called "in").
KEYWORDS = frozenset(
    "as break case class continue default do else enum false for fun func if import in inout "
    "interface is let nil null object package protocol repeat return self static struct super "
    "switch this throw true try typealias typeof val var when where while".split()
)


def readme(ctx: ExportContext, details: dict[str, Any]) -> str:
    mode = details["quantization"]
    parts = [
        f"# {ctx.model_name}: TF Lite model\n",
        f"`model.tflite` ({details['size_bytes']:,} bytes) runs on the stock LiteRT / TF Lite "
        "interpreter with builtin ops only (no Flex delegate). "
        f"Quantisation: {QUANTIZATION_TEXT[mode]}.",
    ]
    if details.get("unrolled"):
        names = ", ".join(f"`{n}`" for n in details["unrolled"])
        parts.append(
            f"Recurrent layers {names} are unrolled over their fixed number of time steps "
            "(same weights), so the sequence length cannot change."
        )
    parts.append(
        f"The model has one signature, `{details['signature']}`, whose input and output keys are "
        "the graph's node names below; the tensors' own names inside the file are TF's. "
        "Index-based APIs use the position column. The first dimension is the batch: resize it "
        "before allocating."
    )
    parts += ["\n" + input_section(ctx)]
    parts += ["## Inputs\n", _table(details["inputs"])]
    parts += [_quantisation_note(details["inputs"], "input")]
    parts += ["\n## Preprocessing inside the model\n", _preprocessing(ctx.plan.layers)]
    parts += ["\n## Outputs\n", _table(details["outputs"]), _quantisation_note(details["outputs"])]
    parts += [_meanings(ctx, details["outputs"])]
    parts += ["\n## Android (Kotlin)\n", _kotlin(details), "\n## iOS (Swift)\n", _swift(details)]
    return "\n".join(part for part in parts if part) + "\n"


def _shape_text(shape: list[int | None]) -> str:
    dims = ["batch" if i == 0 else ("any" if d is None else str(d)) for i, d in enumerate(shape)]
    return "[" + ", ".join(dims) + "]"


def _table(facts: list[dict[str, Any]]) -> str:
    rows = ["| name | position | shape | dtype | quantisation (scale, zero point) |"]
    rows.append("|---|---|---|---|---|")
    for item in facts:
        quant = item["quantization"]
        text = f"{quant['scale']:.6g}, {quant['zero_point']}" if quant else "-"
        rows.append(
            f"| `{item['name']}` | {item['position']} | {_shape_text(item['shape'])} "
            f"| {item['dtype']} | {text} |"
        )
    return "\n".join(rows)


def _quantisation_note(facts: list[dict[str, Any]], kind: str = "output") -> str:
    if not any(item["quantization"] and item["dtype"] == "int8" for item in facts):
        return ""
    if kind == "input":
        return (
            "\nQuantised inputs take int8 values: `q = clamp(round(x / scale) + zero_point, "
            "-128, 127)` where `x` is the raw value the Keras model takes."
        )
    return "\nQuantised outputs come as int8: the value is `(q - zero_point) * scale`."


def _plus(zero_point: int) -> str:
    """``+ zero_point`` as code reads it: "+ 15", "- 9"."""
    return f"- {-zero_point}" if zero_point < 0 else f"+ {zero_point}"


def _minus(zero_point: int) -> str:
    return f"+ {-zero_point}" if zero_point < 0 else f"- {zero_point}"


def _preprocessing(layers: list[PlanLayer]) -> str:
    lines = []
    for layer in layers:
        c = layer.config
        what = {
            "Rescaling": f"multiplies by {c.get('scale', 1.0):g} and adds {c.get('offset', 0.0):g}",
            "Normalization": "subtracts the training data's mean and divides by its deviation",
            "Resizing": f"resizes images to {c.get('height')}x{c.get('width')}"
            f" ({c.get('interpolation', 'bilinear')})",
            "CenterCrop": f"crops the central {c.get('height')}x{c.get('width')}",
        }.get(layer.class_name)
        if what is None and layer.class_name.startswith("Random"):
            what = "augmentation: active only while training, passes values through here"
        if what:
            lines.append(f"- `{layer.name}` ({layer.class_name}): {what}")
    if not lines:
        lines.append("None: the model takes the values exactly as they are fed.")
    lines.append(
        "\nFeed raw values as the training data had them; any layers listed above are part of the "
        "model. "
        "Categorical CSV columns, if the model was trained on any, are *not*: Layerloom one-hot "
        "encodes them in its input pipeline (values in sorted order), so the caller must do the "
        "same before filling the input."
    )
    return "\n".join(lines)


def _meanings(ctx: ExportContext, outputs: list[dict[str, Any]]) -> str:
    layers = {layer.name: layer for layer in ctx.plan.layers}
    lines = []
    for item in outputs:
        layer = layers.get(item["name"])
        activation = layer.config.get("activation") if layer else None
        units = item["shape"][-1]
        if layer and (layer.class_name == "Softmax" or activation == "softmax"):
            labelled = " (indices match labels.txt)" if ctx.class_names else ""
            meaning = f"probabilities of the {units} classes, summing to 1; argmax is the class"
            meaning += labelled
        elif activation == "sigmoid" and units == 1:
            meaning = "probability of the positive class (class 1); above 0.5 means class 1"
        elif ctx.task == "reconstruction":
            meaning = "the model's reconstruction of its input"
        else:
            meaning = "predicted values, in the units of the training targets"
        lines.append(f"- `{item['name']}`: {meaning}")
    return "\n" + "\n".join(lines)


def _dims(shape: list[int | None]) -> list[int]:
    """A concrete shape for the snippets: batch 1, and 1 for any other unknown dimension."""
    return [1 if d is None else d for d in shape]


def _kotlin_array(dims: list[int], dtype: str) -> str:
    array, _ = KOTLIN_ARRAYS.get(dtype, ("FloatArray", "Float"))
    text = f"{array}({dims[-1]})"
    for d in reversed(dims[:-1]):
        text = f"Array({d}) {{ {text} }}"
    return text


def _var(name: str) -> str:
    """A node name as a camelCase variable for Kotlin and Swift."""
    head, *rest = [part for part in name.split("_") if part] or ["x"]
    text = head + "".join(part[:1].upper() + part[1:] for part in rest)
    if text in KEYWORDS or not text[0].isalpha():
        text = f"node{text[:1].upper()}{text[1:]}"
    return text


def _kotlin(details: dict[str, Any]) -> str:
    lines = [
        "```kotlin",
        f"// build.gradle.kts: {ANDROID_DEPENDENCY}",
        "import org.tensorflow.lite.Interpreter",
        "import java.io.FileInputStream",
        "import java.nio.channels.FileChannel",
        "",
        '// model.tflite in src/main/assets (aaptOptions { noCompress += "tflite" })',
        'val modelFd = context.assets.openFd("model.tflite")',
        "val modelBuffer = FileInputStream(modelFd.fileDescriptor).channel.map(",
        "    FileChannel.MapMode.READ_ONLY, modelFd.startOffset, modelFd.declaredLength)",
        "val interpreter = Interpreter(modelBuffer)",
        "",
    ]
    for item in details["inputs"]:
        var = _var(item["name"])
        lines.append(f"// {item['name']}: {_shape_text(item['shape'])} {item['dtype']}, batch 1")
        quant = item["quantization"]
        if quant and item["dtype"] == "int8":
            scale, zero = quant["scale"], quant["zero_point"]
            lines.append(
                f"fun quantize{var[:1].upper()}{var[1:]}(x: Float): Byte = "
                f"(Math.round(x / {scale!r}f) {_plus(zero)}).coerceIn(-128, 127).toByte()"
            )
        lines.append(f"val {var} = {_kotlin_array(_dims(item['shape']), item['dtype'])}")
    lines.append("// ... fill the inputs above ...")
    for item in details["outputs"]:
        lines.append(
            f"val {_var(item['name'])} = {_kotlin_array(_dims(item['shape']), item['dtype'])}"
        )
    ins = ", ".join(f'"{i["name"]}" to {_var(i["name"])}' for i in details["inputs"])
    outs = ", ".join(f'"{o["name"]}" to {_var(o["name"])}' for o in details["outputs"])
    lines.append(f"interpreter.runSignature(mapOf({ins}), mapOf({outs}))")
    for item in details["outputs"]:
        quant = item["quantization"]
        if quant and item["dtype"] == "int8":
            lines.append(
                f"// {item['name']} holds int8: value = (q {_minus(quant['zero_point'])}) * "
                f"{quant['scale']!r}f"
            )
    lines.append("```")
    return "\n".join(lines)


def _swift(details: dict[str, Any]) -> str:
    lines = [
        "```swift",
        f"// Podfile: {IOS_DEPENDENCY}",
        "import TensorFlowLite",
        "",
        'let modelPath = Bundle.main.path(forResource: "model", ofType: "tflite")!',
        "let interpreter = try Interpreter(modelPath: modelPath)",
    ]
    for item in details["inputs"]:
        dims = ", ".join(str(d) for d in _dims(item["shape"]))
        lines.append(
            f"try interpreter.resizeInput(at: {item['position']}, to: Tensor.Shape([{dims}]))"
        )
    lines.append("try interpreter.allocateTensors()")
    for item in details["inputs"]:
        var = _var(item["name"])
        kind = SWIFT_TYPES.get(item["dtype"], "Float32")
        count = prod(_dims(item["shape"]))
        lines.append(f"// {item['name']}: {_shape_text(item['shape'])}, row-major, batch 1")
        quant = item["quantization"]
        if quant and item["dtype"] == "int8":
            raw = f"raw{var[:1].upper()}{var[1:]}"
            lines.append(f"var {raw} = [Float32](repeating: 0, count: {count})  // fill me")
            lines.append(
                f"let {var} = {raw}.map {{ Int8(clamping: Int(($0 / "
                f"{quant['scale']!r}).rounded()) {_plus(quant['zero_point'])}) }}"
            )
        else:
            lines.append(f"var {var} = [{kind}](repeating: 0, count: {count})  // fill me")
        lines.append(
            f"try interpreter.copy({var}.withUnsafeBufferPointer {{ Data(buffer: $0) }}, "
            f"toInputAt: {item['position']})"
        )
    lines.append("try interpreter.invoke()")
    for item in details["outputs"]:
        var = _var(item["name"])
        kind = SWIFT_TYPES.get(item["dtype"], "Float32")
        lines.append(f"let {var}Tensor = try interpreter.output(at: {item['position']})")
        lines.append(
            f"let {var} = {var}Tensor.data.withUnsafeBytes {{ Array($0.bindMemory(to: {kind}.self)) }}"
        )
        quant = item["quantization"]
        if quant and item["dtype"] == "int8":
            lines.append(
                f"let {var}Values = {var}.map {{ (Float32($0) {_minus(quant['zero_point'])}) * "
                f"{quant['scale']!r} }}"
            )
    lines.append("```")
    return "\n".join(lines)
