"""The microcontroller target: TF Lite Micro sources that compile, with the flash and RAM they need.

The model is TF Lite's full-integer one (int8 in, int8 out, calibrated on the training data) from
the same converter path as the phone target, traced with a fixed batch of one: TFLM plans fixed
shapes, and a dynamic batch makes Keras' Flatten add SHAPE/STRIDED_SLICE/PACK ops. Then:

- the arena is measured in the real TFLM interpreter (``micro_runtime``) and ``kTensorArenaSize``
  is that plus a stated margin; the parity interpreter runs with exactly ``kTensorArenaSize``;
- the C++ sources are written and compiled (``micro_sources``);
- parity: TFLM's outputs against Keras (the int8 tolerance of the TF Lite exporter), and TFLM's
  int8 outputs against LiteRT's reference kernels on the same quantised inputs, value for value.
"""

from __future__ import annotations

import re
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.exporters import micro_runtime as tflm
from layerloom.exporters.base import (
    AGREEMENT_OPTION,
    Artifact,
    ExportContext,
    Exporter,
    ExportError,
    Tolerance,
)
from layerloom.exporters.micro_docs import figures, readme
from layerloom.exporters.micro_limits import LIMITS
from layerloom.exporters.micro_sources import (
    compile_check,
    model_data_cc,
    model_data_h,
    model_ops_h,
    model_settings_h,
)
from layerloom.exporters.tflite import (
    QUANTIZED_ERROR_OPTION,
    conversion_model,
    convert,
    quantized_tolerance,
    signature_key,
)
from layerloom.nodes.params import Int

MODEL_FILE = "model.tflite"
# kTensorArenaSize = measured + max(10 %, 1 KiB), rounded up to 16 bytes: optimised kernels
# (CMSIS-NN) may ask for scratch buffers the reference kernels measured here do not.
ARENA_MARGIN_FRACTION = 0.10
ARENA_MARGIN_MIN = 1024
# Ops whose TFLM int8 kernels are their own integer approximations of LiteRT's (measured: at most
# 2 int8 steps apart on random inputs, through an unrolled recurrence); everything else must match
# the reference kernels bit for bit.
APPROXIMATED_OPS = frozenset({"LOGISTIC", "TANH", "SOFTMAX", "BATCH_MATMUL"})
APPROXIMATED_STEPS = 2
MAX_ARENA_OPTION = Int(
    "max_arena_kb",
    0,
    "refuse the export when the tensor arena (RAM) needs more KB than this (0: no limit)",
    min=0,
)
MAX_FLASH_OPTION = Int(
    "max_flash_kb",
    0,
    "refuse the export when the model (flash) needs more KB than this (0: no limit)",
    min=0,
)


def tflm_version() -> str:
    try:
        return version("tflite-micro")
    except PackageNotFoundError:
        return "?"


class MicroExporter(Exporter):
    target = "micro"
    title = "Microcontroller (TF Lite Micro)"
    summary = "An int8 model as C++ sources for TF Lite Micro, with the flash and RAM it needs"
    options = (MAX_ARENA_OPTION, MAX_FLASH_OPTION, AGREEMENT_OPTION, QUANTIZED_ERROR_OPTION)
    requires = ("tensorflow", "ai_edge_litert", "tflite_micro", "exe:g++")
    limits = LIMITS

    def needs_calibration(self, options: dict[str, Any]) -> str | None:
        return "int8 quantisation for TF Lite Micro is calibrated on the project's training data"

    def tolerance(self, options: dict[str, Any], classification: bool) -> Tolerance:
        return quantized_tolerance(options, classification)  # int8, as TF Lite's int8

    def export(self, ctx: ExportContext) -> Artifact:
        model, unrolled = conversion_model(ctx)
        ctx.progress("running the TF Lite converter (int8, batch of 1)")
        int8 = replace(ctx, options={"quantization": "int8"})
        flatbuffer = convert(int8, model, batch=1)
        path = ctx.out_dir / MODEL_FILE
        path.write_bytes(flatbuffer)
        tree = tflm.model_object(flatbuffer)
        ops = tflm.operator_names(tree)
        ctx.progress("measuring the tensor arena in the TF Lite Micro interpreter")
        search = tflm.measure_arena(path, generous=max(4 << 20, 8 * len(flatbuffer)))
        if search.smallest is None:
            path.unlink()
            raise ExportError(cannot_run(search.error, tree, ctx))
        margin = max(ARENA_MARGIN_MIN, tflm.round_up(search.smallest * ARENA_MARGIN_FRACTION))
        arena = tflm.round_up(search.smallest + margin)
        refuse_oversize(ctx.options, len(flatbuffer), arena, path)
        ctx.progress(f"loading the model into TF Lite Micro with exactly {arena} bytes of arena")
        interpreter = tflm.tflm_interpreter(flatbuffer, arena)
        details = {
            "quantization": "int8",
            "batch": 1,
            "flash_bytes": len(flatbuffer),
            "arena_bytes": arena,
            "arena_measured": search.smallest,
            "arena_recorded": search.recorded,
            "arena_margin": arena - search.smallest,
            "arena_probes": search.probes,
            "ops": ops,
            "inputs": edge_facts(interpreter, tree, ctx, "inputs"),
            "outputs": edge_facts(interpreter, tree, ctx, "outputs"),
            "unrolled": unrolled,
        }
        ctx.progress("writing and compiling the C++ sources")
        files = [path]
        sources = {
            "model_data.h": model_data_h(ctx.model_name),
            "model_data.cc": model_data_cc(ctx.model_name, flatbuffer),
            "model_ops.h": model_ops_h(ctx.model_name, ops),
            "model_settings.h": model_settings_h(ctx.model_name, details, ctx.class_names),
        }
        for name, text in sources.items():
            (ctx.out_dir / name).write_text(text, encoding="utf-8")
            files.append(ctx.out_dir / name)
        details["compiled"] = compile_check(ctx.out_dir, ops, len(flatbuffer), ctx.class_names)
        details["figures"] = figures(details)
        notes = ctx.out_dir / "README.md"
        notes.write_text(readme(ctx, details), encoding="utf-8")
        files.append(notes)
        handle = {"tflm": interpreter, "reference": None, "path": path}
        return Artifact(files, f"TF Lite Micro {tflm_version()} interpreter", details, handle)

    def predict(self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]) -> list[Any]:
        """One sample at a time (the model's batch is 1) through TFLM and, on the same int8
        inputs, through LiteRT's reference kernels; the latter are kept for ``extra_checks``."""
        handle = artifact.handle or {"path": artifact.files[0]}
        path = Path(handle["path"])
        if handle.get("tflm") is None:
            handle["tflm"] = tflm.tflm_interpreter(
                path.read_bytes(), artifact.details["arena_bytes"]
            )
        interpreter = handle["tflm"]
        try:
            reference = tflm.reference_interpreter(path)
        except (RuntimeError, ValueError) as error:
            tree = tflm.model_object(path.read_bytes())
            raise ExportError(cannot_check(str(error), tree, ctx)) from error
        kernels = "reference kernels"
        ref_inputs = {d["index"]: d for d in reference.get_input_details()}
        ref_order = [d["index"] for d in reference.get_input_details()]
        ref_outputs = [d["index"] for d in reference.get_output_details()]
        ins, outs = artifact.details["inputs"], artifact.details["outputs"]
        rows = len(next(iter(inputs.values())))
        got: list[list[np.ndarray]] = [[] for _ in outs]
        want: list[list[np.ndarray]] = [[] for _ in outs]
        for row in range(rows):
            interpreter.reset()
            for item in ins:
                quant = item.get("quantization") or {"scale": 0.0, "zero_point": 0}
                value = np.asarray(inputs[item["name"]])[row : row + 1]
                tensor = tflm.quantise(value, item["dtype"], quant["scale"], quant["zero_point"])
                interpreter.set_input(tensor, item["position"])
                index = ref_order[item["position"]]
                reference.set_tensor(index, tensor.astype(ref_inputs[index]["dtype"]))
            interpreter.invoke()
            reference.invoke()
            for number, item in enumerate(outs):
                got[number].append(np.array(interpreter.get_output(item["position"])))
                want[number].append(reference.get_tensor(ref_outputs[item["position"]]))
        tflm_raw = [np.concatenate(chunks) for chunks in got]
        ref_raw = [np.concatenate(chunks) for chunks in want]
        handle["reference"] = {"kernels": kernels, "tflm": tflm_raw, "ref": ref_raw}
        artifact.handle = handle
        return [dequantise(raw, item) for raw, item in zip(tflm_raw, outs, strict=True)]

    def extra_checks(self, artifact: Artifact, ctx: ExportContext) -> dict[str, dict[str, Any]]:
        """TFLM against LiteRT's reference kernels on the same int8 inputs, value for value."""
        state = (artifact.handle or {}).get("reference")
        if not state:
            return {}
        approximated = sorted(APPROXIMATED_OPS & set(artifact.details.get("ops", ())))
        allowed = APPROXIMATED_STEPS if approximated else 0
        values = differing = worst = 0
        for mine, theirs in zip(state["tflm"], state["ref"], strict=True):
            steps = np.abs(mine.astype(np.int64) - theirs.astype(np.int64))
            values += steps.size
            differing += int(np.count_nonzero(steps))
            worst = max(worst, int(steps.max()) if steps.size else 0)
        report = {
            "passed": worst <= allowed,
            "reason": "",
            "runtime": f"LiteRT {_litert()} {state['kernels']}",
            "values": values,
            "differing_values": differing,
            "max_int8_steps": worst,
            "allowed_int8_steps": allowed,
            "approximated_ops": approximated,
        }
        if worst > allowed:
            report["reason"] = (
                f"TFLM differs from LiteRT's {state['kernels']} by {worst} int8 steps "
                f"(allowed {allowed}) in {differing} of {values} values"
            )
        return {"reference_kernels": report}


def _litert() -> str:
    try:
        return version("ai-edge-litert")
    except PackageNotFoundError:
        return "?"


def dequantise(raw: np.ndarray, item: dict[str, Any]) -> np.ndarray:
    quant = item.get("quantization")
    if quant and np.issubdtype(raw.dtype, np.integer):
        return (raw.astype(np.float32) - quant["zero_point"]) * np.float32(quant["scale"])
    return raw.astype(np.float32)


def edge_facts(interpreter: Any, tree: Any, ctx: ExportContext, kind: str) -> list[dict[str, Any]]:
    """Per input/output in the plan's order: its position in TFLM's list, shape, dtype, scale."""
    ins, outs = tflm.signature_positions(tree)
    positions = ins if kind == "inputs" else outs
    names = [i.name for i in ctx.plan.inputs] if kind == "inputs" else list(ctx.plan.outputs)
    facts = []
    for name in names:
        position = positions[signature_key(name)]
        if kind == "inputs":
            detail = interpreter.get_input_details(position)
        else:
            detail = interpreter.get_output_details(position)
        quant = detail["quantization_parameters"]
        scales, zeros = list(quant["scales"]), list(quant["zero_points"])
        facts.append(
            {
                "name": name,
                "position": position,
                "shape": [int(d) for d in detail["shape"]],
                "dtype": np.dtype(detail["dtype"]).name,
                "quantization": (
                    {"scale": float(scales[0]), "zero_point": int(zeros[0])} if scales else None
                ),
            }
        )
    return facts


def refuse_oversize(options: dict[str, Any], flash: int, arena: int, path: Path) -> None:
    """ExportError with both figures (needed and allowed) when the model does not fit."""
    limits = {"flash": options.get("max_flash_kb") or 0, "arena": options.get("max_arena_kb") or 0}
    needs = {"flash": flash, "arena": arena}
    over = [key for key, kb in limits.items() if kb and needs[key] > kb * 1024]
    if not over:
        return
    path.unlink(missing_ok=True)
    words = {
        "flash": f"{flash / 1024:.1f} KB of flash for the model (max_flash_kb={limits['flash']})",
        "arena": f"{arena / 1024:.1f} KB of RAM for the tensor arena "
        f"(max_arena_kb={limits['arena']})",
    }
    for key in ("flash", "arena"):
        if not limits[key]:
            words[key] = words[key].split(" (")[0] + " (no limit set)"
    raise ExportError(
        f"the model does not fit the microcontroller: it needs {words['flash']} and "
        f"{words['arena']}"
    )


def cannot_check(error: str, tree: Any, ctx: ExportContext) -> str:
    found = re.search(r"builtin opcode '([A-Z0-9_]+)'", error)
    op = found.group(1) if found else "one of its ops"
    reason = f"LiteRT's reference kernels, which TFLM is checked against, have no {op}"
    return cannot_run(reason, tree, ctx, error).replace("TF Lite Micro cannot run", "cannot check")


def cannot_run(reason: str, tree: Any, ctx: ExportContext, error: str = "") -> str:
    """TFLM's refusal, naming the node whose operator it is when the tensor names tell."""
    error = error or reason

    found = re.search(r"builtin opcode '([A-Z0-9_]+)'", error)
    number = re.search(r"\(number (\d+)\)", error)
    if found:
        tensors = tflm.producers(tree, op_name=found.group(1))
    elif number:
        tensors = tflm.producers(tree, number=int(number.group(1)))
    else:
        tensors = []
    node = "the model"
    layers = sorted(ctx.plan.layers, key=lambda item: -len(item.name))
    for name in tensors:  # nearest to the failing op first
        for layer in layers:
            pattern = rf"(^|[^A-Za-z0-9_]){re.escape(layer.name)}(_\d+)?([^A-Za-z0-9_]|$)"
            if re.search(pattern, name):
                return (
                    f"TF Lite Micro cannot run node '{layer.name}' ({layer.class_name}): {reason}"
                )
    return f"TF Lite Micro cannot run {node}: {reason}"
