"""ONNX: one ``model.onnx`` converted by tf2onnx, checked by ``onnx.checker`` and run in onnxruntime.

The converter gets the same named tf.function as TF Serving (one TensorSpec per Input node, a dict
keyed by output node name), so the ONNX graph's inputs and outputs carry the graph's node names
and an open batch dimension. tf2onnx logs every step and, on an op it cannot convert, logs an
error and carries on; its records are caught here instead, so the CLI stays quiet and a failure
becomes one line naming the node.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from layerloom.exporters.base import (
    TOLERANCE_OPTION,
    Artifact,
    ExportContext,
    Exporter,
    ExportError,
)
from layerloom.exporters.input_docs import input_section
from layerloom.exporters.onnx_limits import LIMITS
from layerloom.exporters.serving import signature_function
from layerloom.nodes.params import Int
from layerloom.nodes.plan import BuildPlan

MODEL_FILE = "model.onnx"
BATCH = "batch"  # the symbolic name of the open batch dimension in the ONNX graph


class _Records(logging.Handler):
    """Collects tf2onnx's warnings and errors instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def quiet_tf2onnx() -> Iterator[_Records]:
    logger = logging.getLogger("tf2onnx")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    records = _Records()
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.handlers = [records]
    try:
        yield records
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers = saved[2]


# tf2onnx deep-copies the whole graph before each of its optimizer passes so that a pass that
# raises can be skipped: a fifth of a conversion. TF2ONNX_CATCH_ERRORS switches the copies off;
# tf2onnx 1.17 reads it as "off" whenever it is set (it compares the variable's name, not its
# value, with "TRUE"), and "FALSE" means off under either reading.
CATCH_ERRORS_VARIABLE = "TF2ONNX_CATCH_ERRORS"


@contextmanager
def _without_optimizer_copies() -> Iterator[None]:
    saved = os.environ.get(CATCH_ERRORS_VARIABLE)
    os.environ[CATCH_ERRORS_VARIABLE] = "FALSE"
    try:
        yield
    finally:
        if saved is None:
            del os.environ[CATCH_ERRORS_VARIABLE]
        else:
            os.environ[CATCH_ERRORS_VARIABLE] = saved


def _from_function(function: Any, specs: Any, opset: int, records: _Records) -> Any:
    """The ModelProto, converted without the optimizer's safety copies first; should that fail
    (an optimizer pass raising, or the conversion itself), converted again the default way, which
    skips a failing pass and otherwise fails the same way."""
    import tf2onnx

    def convert() -> Any:
        return tf2onnx.convert.from_function(
            function, input_signature=[specs], opset=opset, custom_op_handlers=CUSTOM_OPS
        )[0]

    try:
        with _without_optimizer_copies():
            return convert()
    except Exception:  # noqa: BLE001 - any failure gets the default route's second opinion
        records.messages.clear()
        return convert()


def node_named_in(text: str, plan: BuildPlan) -> str | None:
    """The plan layer a TF op name in ``text`` belongs to (``model/dense_2_1/MatMul`` -> dense_2).

    Keras scopes ops as ``<model>/<layer>[_N]/...``; the longest matching layer name wins, so
    ``dense`` does not shadow ``dense_2``; the first node the text names is the one meant."""
    best: tuple[int, int, str] | None = None  # (position, -length, name): earliest, then longest
    for layer in plan.layers:
        match = re.search(rf"(^|[/\s'\"\[(]){re.escape(layer.name)}(_\d+)?/", text)
        if match is not None:
            key = (match.start(), -len(layer.name), layer.name)
            best = key if best is None or key < best else best
    return best[2] if best else None


def one_line(problem: str, limit: int = 300) -> str:
    """A converter's or runtime's message as one line, without the source locations, C++
    signatures and Keras argument dumps that surround the actual complaint."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", problem).split("Arguments received by")[0]
    if "FAIL : " in text:  # onnxruntime nests its messages; the innermost one says what is wrong
        text = text.rsplit("FAIL : ", 1)[1]
    text = re.sub(r"\S+\.(?:h|cc|cpp):\d+\s*", "", text)
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("Exception encountered")]
    line = " ".join(lines) or "unknown error"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _failure(plan: BuildPlan, stage: str, problem: str, context: list[str]) -> ExportError:
    """One readable line: what failed, at which node when ``problem`` (or else ``context``, other
    messages about the same failure) names one."""
    first = one_line(problem)
    node = node_named_in(problem, plan) or node_named_in("\n".join(context), plan)
    if node is not None:
        label = next(x.class_name for x in plan.layers if x.name == node)
        return ExportError(f"ONNX {stage} failed at node '{node}' ({label}): {first}")
    return ExportError(f"ONNX {stage} failed: {first}")


def _unsupported(records: list[str]) -> list[str]:
    """tf2onnx's own complaints about ops it left unconverted."""
    return [m for m in records if "not supported" in m or "Failed to convert" in m]


def _unsupported_error(plan: BuildPlan, messages: list[str]) -> ExportError:
    """The first op tf2onnx could not convert, and the other nodes that have one."""
    error = _failure(plan, "conversion", messages[0], [])
    others = sorted({node_named_in(m, plan) or "" for m in messages[1:]} - {""})
    others = [name for name in others if f"'{name}'" not in str(error)]
    return ExportError(f"{error} (also at: {', '.join(others)})") if others else error


def _erfc(graph: Any, node: Any, name: str, args: list[Any]) -> None:
    """TF's Erfc as 1 - Erf: ONNX has no Erfc, and Keras' exact ``gelu`` (the default) is
    ``0.5 * x * erfc(-x / sqrt(2))`` in TensorFlow, so without this every gelu fails to convert."""
    from tf2onnx import utils

    np_type = utils.map_onnx_to_numpy_type(graph.get_dtype(node.input[0]))
    erf = graph.make_node("Erf", [node.input[0]])
    one = graph.make_const(utils.make_name(f"{name}_one"), np.array(1, dtype=np_type))
    node.type = "Sub"
    graph.replace_inputs(node, [one.output[0], erf.output[0]])


# tf2onnx's older handler form, {tf op: (function, args)}, the one ``from_function`` accepts.
CUSTOM_OPS: dict[str, tuple[Any, list[Any]]] = {"Erfc": (_erfc, [])}


class OnnxExporter(Exporter):
    target = "onnx"
    title = "ONNX"
    summary = "An .onnx model for onnxruntime and other ONNX runtimes"
    options = (
        Int("opset", 17, "the ONNX opset (13-18; tf2onnx refuses 19 and later)", min=13, max=18),
        TOLERANCE_OPTION,
    )
    limits = LIMITS
    requires = ("tensorflow", "tf2onnx", "onnx", "onnxruntime")

    def export(self, ctx: ExportContext) -> Artifact:
        import tf2onnx

        opset = int(ctx.options["opset"])
        proto = self._convert(ctx, opset)
        path = ctx.out_dir / MODEL_FILE
        path.write_bytes(proto.SerializeToString())
        session = self._session(path, ctx.plan)
        files = [path, ctx.out_dir / "README.md"]
        files[1].write_text(readme(ctx, opset, session), encoding="utf-8")
        details = {
            "opset": opset,
            "inputs": _io(session.get_inputs()),
            "outputs": _io(session.get_outputs()),
            "tf2onnx": tf2onnx.__version__,
            "onnx_ir_version": int(proto.ir_version),
            "size_bytes": path.stat().st_size,
        }
        return Artifact(files, runtime_name(opset), details, handle=session)

    def predict(self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]) -> list[Any]:
        session = artifact.handle or self._session(artifact.files[0], ctx.plan)
        feed = {i.name: np.asarray(inputs[i.name], dtype=i.dtype) for i in ctx.plan.inputs}
        return [np.asarray(x) for x in session.run(list(ctx.plan.outputs), feed)]

    # --- steps ---------------------------------------------------------------------------------
    def _convert(self, ctx: ExportContext, opset: int) -> Any:
        """The converted, repaired and checked ModelProto."""
        import onnx
        import tf2onnx

        ctx.progress("tracing the model")
        function, specs = signature_function(ctx.model, ctx.plan)
        try:
            concrete = function.get_concrete_function()
        except Exception as error:  # Keras' tracing errors name the layer
            raise _failure(ctx.plan, "tracing", str(error), []) from error

        ctx.progress(f"converting with tf2onnx {tf2onnx.__version__} (opset {opset})")
        with quiet_tf2onnx() as records:
            try:
                proto = _from_function(function, specs, opset, records)
            except Exception as error:
                context = _unsupported(records.messages)  # an op it gave up on may be the cause
                raise _failure(ctx.plan, "conversion", str(error), context) from error
        unsupported = _unsupported(records.messages)
        if unsupported:  # tf2onnx carries on past an op it cannot convert; the export must not
            raise _unsupported_error(ctx.plan, unsupported)
        fold_captured_constants(proto, concrete)
        fix_transpose_pads(proto)
        name_batch_dimension(proto, ctx.model, ctx.plan.outputs)
        order_like_plan(proto, ctx.plan)
        missing = self._missing_names(proto, ctx.plan)
        if missing:
            raise ExportError(f"the ONNX graph lacks {missing} after conversion")

        ctx.progress("checking the ONNX model")
        try:
            onnx.checker.check_model(proto, full_check=True)
        except Exception as error:
            raise _failure(ctx.plan, "check", str(error), []) from error
        return proto

    @staticmethod
    def _missing_names(proto: Any, plan: BuildPlan) -> str:
        have_in = {i.name for i in proto.graph.input}
        have_out = {o.name for o in proto.graph.output}
        missing = [f"input '{i.name}'" for i in plan.inputs if i.name not in have_in]
        missing += [f"output '{o}'" for o in plan.outputs if o not in have_out]
        return ", ".join(missing)

    @staticmethod
    def _session(path: Any, plan: BuildPlan) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # Errors only: its optimiser notes (deprecated attributes, unused initializers) are
        # about tf2onnx's choices, not the user's model; the default logger prints at load.
        ort.set_default_logger_severity(3)
        options.log_severity_level = 3
        try:
            return ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # an op or an attribute onnxruntime cannot run
            raise _failure(plan, "loading in onnxruntime", str(error), []) from error


def runtime_name(opset: int) -> str:
    import onnxruntime as ort

    return f"onnxruntime {ort.__version__} (opset {opset})"


def fold_captured_constants(proto: Any, concrete: Any) -> None:
    """Turn captured tensors that tf2onnx left as graph inputs into initializers.

    Keras keeps some state as plain tensors, not variables (``Normalization``'s mean and variance
    after build): a tf.function captures them, and ``from_function`` only drops captured
    *resources* from the inputs, so the rest would become inputs the caller must feed."""
    from onnx import numpy_helper

    captured = list(concrete.captured_inputs)  # fed to the last placeholders of the graph
    placeholders = concrete.inputs[len(concrete.inputs) - len(captured) :]
    values = {
        placeholder.name: value.numpy()
        for placeholder, value in zip(placeholders, captured, strict=True)
        if value.dtype.name != "resource"
    }
    if not values:
        return
    used = {name for node in proto.graph.node for name in node.input}
    kept = [i for i in proto.graph.input if i.name not in values]
    for item in proto.graph.input:
        if item.name in values and item.name in used:
            proto.graph.initializer.append(numpy_helper.from_array(values[item.name], item.name))
    del proto.graph.input[:]
    proto.graph.input.extend(kept)


def fix_transpose_pads(proto: Any) -> None:
    """Move tf2onnx's negative ConvTranspose pads into ``output_padding``.

    Keras' ``output_padding`` with ``padding="valid"`` asks for an output longer than the
    transposed convolution's own; TensorFlow appends those rows and columns at the end (they get
    the bias only), and tf2onnx writes the difference as negative pads split over both sides,
    which ONNX forbids. ONNX's ``output_padding`` adds exactly such elements at the end."""
    from onnx import helper

    for node in proto.graph.node:
        if node.op_type != "ConvTranspose":
            continue
        attrs = {a.name: a for a in node.attribute}
        if "pads" not in attrs or "output_padding" in attrs:
            continue
        pads = list(attrs["pads"].ints)
        rank = len(pads) // 2
        begin, end = pads[:rank], pads[rank:]
        strides = list(attrs["strides"].ints) if "strides" in attrs else [1] * rank
        extra = [-(b + e) if b <= 0 and e <= 0 else 0 for b, e in zip(begin, end, strict=True)]
        # ONNX allows output_padding only below the stride, as Keras does.
        fixable = all(x < s for x, s in zip(extra, strides, strict=True))
        if not any(extra) or not fixable:
            continue
        new_pads = [0 if x else b for b, x in zip(begin, extra, strict=True)]
        new_pads += [0 if x else e for e, x in zip(end, extra, strict=True)]
        node.attribute.remove(attrs["pads"])
        node.attribute.extend(
            [
                helper.make_attribute("pads", new_pads),
                helper.make_attribute("output_padding", extra),
            ]
        )


def order_like_plan(proto: Any, plan: BuildPlan) -> None:
    """Inputs and outputs in the graph's order: tf2onnx sorts them by name (it flattens dicts)."""
    for field, names in (
        (proto.graph.input, [i.name for i in plan.inputs]),
        (proto.graph.output, plan.outputs),
    ):
        rank = {name: index for index, name in enumerate(names)}
        ordered = sorted(field, key=lambda v: rank.get(v.name, len(rank)))
        copies = [type(v)() for v in ordered]
        for copy, value in zip(copies, ordered, strict=True):
            copy.CopyFrom(value)
        del field[:]
        field.extend(copies)


def name_batch_dimension(proto: Any, model: Any, outputs: list[str]) -> None:
    """tf2onnx calls the open batch dimension ``unk__N``; ``batch`` reads better in any viewer.

    An output whose shape tf2onnx's inference lost gets Keras' shape: ``onnx.checker`` refuses
    a graph output without one."""
    keras_shapes = {name: tuple(t.shape) for name, t in zip(outputs, model.outputs, strict=True)}
    for value in proto.graph.output:
        tensor_type = value.type.tensor_type
        if not tensor_type.HasField("shape") and value.name in keras_shapes:
            for index, size in enumerate(keras_shapes[value.name]):
                dim = tensor_type.shape.dim.add()
                if size is None:
                    dim.dim_param = BATCH if index == 0 else f"{value.name}_{index}"
                else:
                    dim.dim_value = int(size)
    for value in [*proto.graph.input, *proto.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = BATCH


def _io(values: list[Any]) -> dict[str, dict[str, Any]]:
    return {
        v.name: {"shape": [d if isinstance(d, int) else None for d in v.shape], "dtype": v.type}
        for v in values
    }


def _shape_text(shape: list[Any]) -> str:
    """onnxruntime's shape: sizes, and names for open dimensions (``batch``, ``unk__3``)."""
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def readme(ctx: ExportContext, opset: int, session: Any) -> str:
    rows = [
        f"| `{v.name}` | {kind} | {_shape_text(v.shape)} | {v.type} |"
        for kind, values in (("input", session.get_inputs()), ("output", session.get_outputs()))
        for v in values
    ]
    feed = "\n".join(
        f'    "{i.name}": np.zeros({(1, *(d or 1 for d in i.shape))}, dtype=np.{i.dtype}),'
        for i in ctx.plan.inputs
    )
    table = "\n".join(rows)
    return f"""# {ctx.model_name}: ONNX

`{MODEL_FILE}` uses ONNX opset {opset} (default domain) and was converted with tf2onnx.

| name | kind | shape | type |
|------|------|-------|------|
{table}

`{BATCH}` is any number of examples.

{input_section(ctx)}
## Run it with onnxruntime

```python
import numpy as np
import onnxruntime as ort

session = ort.InferenceSession("{MODEL_FILE}", providers=["CPUExecutionProvider"])
inputs = {{
{feed}
}}
outputs = session.run(None, inputs)  # one array per output, in the order of the table
```

The parity check ran this file in {runtime_name(opset)} against Keras; see `parity.json`.
"""
