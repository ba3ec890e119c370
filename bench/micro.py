"""Microcontroller export benchmark: per template, the whole micro export (int8 conversion with a
batch of 1, arena bisection in the TFLM interpreter, C++ sources compiled, parity) with its flash and
arena figures, then the inference time per sample in TF Lite Micro next to LiteRT's interpreter
(its default kernels and its reference kernels) on the same int8 model and inputs.

Models: the templates TFLM can run, with deterministic random weights (the test harness's); the
parity batch is the templates' decided random inputs as in the tests. Inference: the median of
ROUNDS passes over SAMPLES samples, one sample per invoke (the model's batch is 1).

Run from the repository root: .venv/bin/python -m bench.micro   (see bench/README.md)
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.exporters import micro_runtime as tflm
from tests.exporters.harness import run_exporter_case
from tests.exporters.test_tflite import export_decided

TEMPLATES = ("mlp_classifier", "small_cnn", "residual_cnn", "lstm_sequence", "dense_autoencoder")
SAMPLES = 50
ROUNDS = 5


def per_sample(run: Any, inputs: list[np.ndarray]) -> float:
    """Median seconds per sample over ROUNDS passes."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for sample in inputs:
            run(sample)
        times.append((time.perf_counter() - started) / len(inputs))
    return statistics.median(times)


def bench_template(name: str, folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    if name == "dense_autoencoder":
        result = run_exporter_case("micro", name, folder, samples=8, representative=8)
    else:
        result = export_decided(name, folder, {}, samples=12, target="micro")
    seconds = time.perf_counter() - started
    path = folder / "model.tflite"
    details = result.details
    first = details["inputs"][0]
    rng = np.random.default_rng(0)
    if first["dtype"] == "int8":
        inputs = [rng.integers(-128, 128, first["shape"]).astype(np.int8) for _ in range(SAMPLES)]
    else:
        inputs = [
            rng.integers(0, 10, first["shape"]).astype(first["dtype"]) for _ in range(SAMPLES)
        ]
    micro = tflm.tflm_interpreter(path.read_bytes(), details["arena_bytes"])

    def run_micro(sample: np.ndarray) -> None:
        micro.set_input(sample, first["position"])
        micro.invoke()
        micro.get_output(0)

    from ai_edge_litert.interpreter import Interpreter

    def litert_runner(interpreter: Any) -> Any:
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[first["position"]]["index"]
        out = interpreter.get_output_details()[0]["index"]

        def run(sample: np.ndarray) -> None:
            interpreter.set_tensor(index, sample)
            interpreter.invoke()
            interpreter.get_tensor(out)

        return run

    return {
        "template": name,
        "passed": result.passed,
        "export_s": round(seconds, 2),
        "flash_bytes": details["flash_bytes"],
        "arena_bytes": details["arena_bytes"],
        "arena_measured": details["arena_measured"],
        "ops": len(details["ops"]),
        "top1_agreement": result.parity.get("top1_agreement"),
        "tflm_ms": round(per_sample(run_micro, inputs) * 1e3, 3),
        "litert_ms": round(per_sample(litert_runner(Interpreter(str(path))), inputs) * 1e3, 3),
        "litert_ref_ms": round(
            per_sample(litert_runner(tflm.reference_interpreter(path)), inputs) * 1e3, 3
        ),
    }


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in TEMPLATES:
            rows.append(bench_template(name, Path(scratch) / name))
            print(json.dumps(rows[-1]), flush=True)
    print("| template | export | flash | arena (measured) | ops | TFLM | LiteRT | LiteRT ref |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['template']} | {row['export_s']} s | {row['flash_bytes'] / 1024:.1f} KB | "
            f"{row['arena_bytes'] / 1024:.1f} KB ({row['arena_measured']} B) | {row['ops']} | "
            f"{row['tflm_ms']} ms | {row['litert_ms']} ms | {row['litert_ref_ms']} ms |"
        )


if __name__ == "__main__":
    main()
