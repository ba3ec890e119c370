"""The TF Lite Micro side of the micro target: the model's operators, the arena it really needs and
the interpreters that run it. No TensorFlow here (only ``tflite-micro`` and NumPy).

The arena is measured in the real TFLM interpreter (``tflite-micro``'s Python wheel runs the same
C++ kernels as a board's reference build): the smallest arena with which the model allocates and
runs one inference, found by bisection. A too-small arena usually raises at allocation, but one
below the interpreter's own bookkeeping segfaults, so the bisection runs in a child process
(``python -m layerloom.exporters.micro_runtime MODEL LOW HIGH``) that announces every probe before
trying it; a probe that killed the child was too small, and a fresh child goes on above it. The
child's stderr also carries TFLM's own reason when a model cannot run at all ("Didn't find op for
builtin opcode 'TILE'"), which the exporter turns into the node that produced that operator.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# TFLM keeps tensors 16-byte aligned; arena sizes are whole multiples of it.
ALIGN = 16
# A model that needs more than this is no microcontroller model; the search stops there.
MAX_ARENA = 256 * 1024 * 1024
MAX_RESTARTS = 12


def schema() -> Any:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    return schema_py_generated


def model_object(flatbuffer: bytes) -> Any:
    """The flat buffer as the schema's object tree (the schema that ships with tflite-micro)."""
    from tflite_micro.python.tflite_micro import runtime

    return runtime.convert_bytearray_to_object(bytearray(flatbuffer))


def builtin_names() -> dict[int, str]:
    ops = schema().BuiltinOperator
    return {value: name for name, value in vars(ops).items() if not name.startswith("_")}


def operator_names(tree: Any) -> list[str]:
    """Every builtin operator the model uses, once each, in the model's operator-code order."""
    from tflite_micro.python.tflite_micro import runtime

    names = builtin_names()
    used = {op.opcodeIndex for graph in tree.subgraphs for op in graph.operators or []}
    found: list[str] = []
    for index, code in enumerate(tree.operatorCodes or []):
        name = names.get(runtime.get_builtin_code_from_operator_code(code), "CUSTOM")
        if index in used and name not in found:
            found.append(name)
    return found


def tensor_name(tree: Any, index: int) -> str:
    name = tree.subgraphs[0].tensors[index].name
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)


def producers(tree: Any, op_name: str | None = None, number: int | None = None) -> list[str]:
    """Names around the operators of type ``op_name`` (or operator ``number``): their weights'
    and outputs' tensor names carry the Keras layer's name scope, and an output that is a model
    output goes by its signature key, the output node's name. Graph inputs are left out (they are
    named after Input nodes, not the layer that failed)."""
    from tflite_micro.python.tflite_micro import runtime

    names = builtin_names()
    graph = tree.subgraphs[0]
    outputs = {}
    for signature in tree.signatureDefs or []:
        for entry in signature.outputs:
            key = entry.name.decode() if isinstance(entry.name, bytes) else str(entry.name)
            outputs[int(entry.tensorIndex)] = key
    inputs = {int(i) for i in graph.inputs}
    found: list[str] = []
    frontier: list[int] = []
    operators = list(graph.operators or [])
    for position, op in enumerate(operators):
        code = runtime.get_builtin_code_from_operator_code(tree.operatorCodes[op.opcodeIndex])
        if (op_name is not None and names.get(code) == op_name) or position == number:
            frontier += [int(i) for i in op.outputs]
            for index in [*op.outputs, *op.inputs]:
                index = int(index)
                if index in outputs:
                    found.append(outputs[index])
                elif index >= 0 and index not in inputs:
                    found.append(tensor_name(tree, index))
    # Then what the failing op feeds, nearest first: a float island (DEQUANTIZE, ELU, QUANTIZE)
    # has only generated names, and its QUANTIZE's output may be the model's output.
    seen = set(frontier)
    while frontier:
        index = frontier.pop(0)
        for op in operators:
            if index in [int(i) for i in op.inputs]:
                for out in (int(i) for i in op.outputs):
                    if out not in seen:
                        seen.add(out)
                        frontier.append(out)
                        found.append(outputs.get(out) or tensor_name(tree, out))
    return found


def signature_positions(tree: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Signature key -> position in the subgraph's input list, and the same for outputs (TFLM's
    ``set_input``/``get_output`` index by position)."""
    graph = tree.subgraphs[0]
    (signature,) = tree.signatureDefs

    def positions(maps: Any, listed: Any) -> dict[str, int]:
        order = [int(i) for i in listed]
        out = {}
        for entry in maps:
            key = entry.name.decode() if isinstance(entry.name, bytes) else str(entry.name)
            out[key] = order.index(int(entry.tensorIndex))
        return out

    return positions(signature.inputs, graph.inputs), positions(signature.outputs, graph.outputs)


# --- the arena ----------------------------------------------------------------------------------


@dataclass
class ArenaSearch:
    smallest: int | None  # the smallest arena that allocates and runs (None: none does)
    recorded: int | None  # what the recording allocator reports at a generous size
    error: str  # TFLM's own words when the model cannot run at all
    probes: int = 0


def _zeros_invoke(interpreter: Any, count: int) -> None:
    for index in range(count):
        detail = interpreter.get_input_details(index)
        interpreter.set_input(np.zeros(detail["shape"], dtype=detail["dtype"]), index)
    interpreter.invoke()


def _input_count(flatbuffer: bytes) -> int:
    return len(model_object(flatbuffer).subgraphs[0].inputs)


def probe(flatbuffer: bytes, size: int, inputs: int) -> bool:
    """Whether the model allocates and runs one inference in an arena of ``size`` bytes."""
    from tflite_micro.python.tflite_micro import runtime

    try:
        interpreter = runtime.Interpreter.from_bytes(flatbuffer, arena_size=size)
        _zeros_invoke(interpreter, inputs)
    except (RuntimeError, ValueError):
        return False
    return True


def _child(path: str, low: int, high: int) -> int:
    """The bisection itself (in the child): every probe is announced before it is tried."""
    flatbuffer = Path(path).read_bytes()
    inputs = _input_count(flatbuffer)
    if low == 0:  # first child: is there any size that works, and what does TFLM record?
        print(f"TRY {high}", flush=True)
        from tflite_micro.python.tflite_micro import runtime

        try:
            interpreter = runtime.Interpreter.from_bytes(flatbuffer, arena_size=high)
            _zeros_invoke(interpreter, inputs)
        except (RuntimeError, ValueError) as error:
            print(f"CANNOT {error}", flush=True)
            return 0
        sys.stderr.flush()
        interpreter.print_allocations()  # to fd 2, which the parent reads
        print(f"OK {high}", flush=True)
        return 0
    while high - low > ALIGN:
        middle = (low + high) // 2 // ALIGN * ALIGN
        print(f"TRY {middle}", flush=True)
        if probe(flatbuffer, middle, inputs):
            high = middle
            print(f"OK {middle}", flush=True)
        else:
            low = middle
            print(f"FAIL {middle}", flush=True)
    print(f"SMALLEST {high}", flush=True)
    return 0


def _run_child(path: Path, low: int, high: int) -> tuple[list[str], str, int]:
    done = subprocess.run(
        [sys.executable, "-m", "layerloom.exporters.micro_runtime", str(path), str(low), str(high)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.stdout.splitlines(), done.stderr, done.returncode


def measure_arena(path: Path, generous: int) -> ArenaSearch:
    """The smallest working arena for the model at ``path``, in child processes (see above)."""
    lines, stderr, code = _run_child(path, 0, min(generous, MAX_ARENA))
    said = dict(line.split(" ", 1) for line in lines if " " in line)
    if "OK" not in said:
        reason = said.get("CANNOT", "")
        if code != 0 and not reason:
            reason = f"the TFLM interpreter crashed (exit code {code})"
        return ArenaSearch(None, None, _tflm_reason(stderr) or reason or "TFLM could not run it")
    recorded_match = re.search(r"Arena allocation total (\d+) bytes", stderr)
    recorded = int(recorded_match.group(1)) if recorded_match else None
    high = min(generous, MAX_ARENA)
    low = ALIGN if recorded is None else max(ALIGN, recorded // 2 // ALIGN * ALIGN)
    probes = 1
    for _ in range(MAX_RESTARTS):
        lines, stderr, code = _run_child(path, low, high)
        tried = None
        for line in lines:
            word, _, number = line.partition(" ")
            if word == "TRY":
                tried, probes = int(number), probes + 1
            elif word == "OK":
                high, tried = int(number), None
            elif word == "FAIL":
                low, tried = int(number), None
            elif word == "SMALLEST":
                return ArenaSearch(int(number), recorded, "", probes)
        if tried is None:
            break
        low = tried  # it killed the child: too small
    return ArenaSearch(high, recorded, "", probes)


def _tflm_reason(stderr: str) -> str:
    """TFLM's first line that says why (it writes several, most of them consequences)."""
    for pattern in (
        r"Didn't find op for builtin opcode '[^']+'",
        r"Node \w+ \(number \d+\) failed to prepare",
        r"[\w/.]+\.cc:\d+ [^\n]+",
    ):
        found = re.search(pattern, stderr)
        if found:
            return found.group(0).strip()
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def round_up(value: float, step: int = ALIGN) -> int:
    return int(-(-value // step) * step)


# --- the interpreters ---------------------------------------------------------------------------


def tflm_interpreter(flatbuffer: bytes, arena_size: int) -> Any:
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(flatbuffer, arena_size=arena_size)


def reference_interpreter(path: Path) -> Any:
    """LiteRT with its reference kernels (what TFLM's kernels are ported from). ValueError when
    they lack one of the model's ops (int8 ELU: its float island has no reference kernel); LiteRT's
    default kernels are no stand-in, they differ from the reference ones by design."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF
    )
    interpreter.allocate_tensors()
    return interpreter


def quantise(values: np.ndarray, dtype: Any, scale: float, zero_point: int) -> np.ndarray:
    """A float array as an int8/uint8 tensor (``round(x / scale) + zero_point``, clamped); integer
    inputs (token ids) pass as they are."""
    dtype = np.dtype(dtype)
    if scale and dtype in (np.int8, np.uint8) and not np.issubdtype(values.dtype, np.integer):
        info = np.iinfo(dtype)
        quantised = np.round(values.astype(np.float64) / scale) + zero_point
        return np.clip(quantised, info.min, info.max).astype(dtype)
    return values.astype(dtype)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m layerloom.exporters.micro_runtime MODEL LOW HIGH", file=sys.stderr)
        return 2
    return _child(argv[0], int(argv[1]), int(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
