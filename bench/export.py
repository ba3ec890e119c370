"""Export benchmark: each target's whole export (conversion, files, parity check in its runtime)
next to the bare converter call alone, in the same process, same model; then the exported model's
inference latency per target next to Keras on the CPU.

Model: a ~1.2M-parameter CNN (64x64x3 -> three conv/pool blocks -> Dense 128 -> 10 classes), built
from a Layerloom graph. Each figure is the median of ROUNDS rounds; Layerloom and the bare converter
alternate who goes first. The export worker's start-up (a fresh Python importing TensorFlow, ~5 s)
is measured separately: it is paid once per export and is the price of a crash-proof app.

Run from the repository root: .venv/bin/python -m bench.export   (see bench/README.md)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.exporters.base import ExportContext
from layerloom.exporters.registry import default_exporters
from layerloom.exporters.run import keras_outputs, run_export
from layerloom.exporters.samples import synthetic
from layerloom.nodes.compile import build_plan
from layerloom.nodes.graph import Graph, Node, new_id
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.registry import default_registry

ROUNDS = 5
LATENCY_CALLS = 50


def cnn_plan() -> BuildPlan:
    registry = default_registry()
    graph = Graph()
    previous: str | None = None

    def add(type_name: str, name: str, **params: Any) -> None:
        nonlocal previous
        spec = registry[
            type_name if type_name.startswith("keras.") else f"keras.layers.{type_name}"
        ]
        node = Node(new_id(), spec.type_id, name, spec.normalize(params))
        graph.add_node(node)
        if previous is not None:
            from layerloom.nodes.graph import Edge

            graph.connect(Edge(previous, node.id, "input"))
        previous = node.id

    add("keras.Input", "image", shape=(64, 64, 3))
    add("Rescaling", "rescale", scale=1 / 255)
    for index, filters in enumerate((32, 64, 128)):
        add("Conv2D", f"conv_{index}", filters=filters, kernel_size=(3, 3), padding="same",
            activation="relu")  # fmt: skip
        add("MaxPooling2D", f"pool_{index}", pool_size=(2, 2))
    add("Flatten", "flat")
    add("Dense", "hidden", units=128, activation="relu")
    add("Dense", "classes", units=10, activation="softmax")
    return build_plan(graph, registry, "cnn_1m")


def bare_converters(model: Any, folder: Path) -> dict[str, Callable[[], None]]:
    """What a user would call by hand for each target (no parity check, no extra files)."""
    import tensorflow as tf

    def tflite() -> None:
        (folder / "bare.tflite").write_bytes(
            tf.lite.TFLiteConverter.from_keras_model(model).convert()
        )

    def onnx() -> None:
        import tf2onnx

        spec = [tf.TensorSpec((None, 64, 64, 3), tf.float32, name="image")]
        tf2onnx.convert.from_keras(model, input_signature=spec, opset=17,
                                   output_path=str(folder / "bare.onnx"))  # fmt: skip

    def serving() -> None:
        model.export(str(folder / f"bare_serving_{time.monotonic_ns()}"), verbose=False)

    def keras_file() -> None:
        model.save(folder / "bare.keras")

    def python_script() -> None:
        model.save_weights(folder / "bare.weights.h5")

    def tfjs() -> None:
        # No bare converter works with Keras 3 (tensorflowjs writes files tfjs cannot load);
        # the closest is Layerloom's own writer.
        from layerloom.exporters.tfjs import convert
        from layerloom.exporters.tfjs_format import topology, weight_entries, write_model

        plan = cnn_plan()
        layers = convert(model, plan)
        (folder / "bare_tfjs").mkdir(exist_ok=True)
        names = [item.name for item in plan.inputs]
        write_model(folder / "bare_tfjs", topology(plan.name, layers, names, list(plan.outputs)),
                    weight_entries(layers), "bench")  # fmt: skip

    return {
        "tflite": tflite,
        "tfjs": tfjs,
        "serving": serving,
        "onnx": onnx,
        "keras": keras_file,
        "python": python_script,
    }


def timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def worker_startup() -> float:
    """A fresh Python importing TensorFlow and Keras, as the export worker does."""
    code = "from nodes.keras_runtime import load_keras; load_keras()"
    return timed(lambda: subprocess.run([sys.executable, "-c", code], check=True))


def main() -> None:
    import keras

    keras.utils.set_random_seed(0)
    from layerloom.nodes.keras_build import build_model

    plan = cnn_plan()
    model = build_model(plan)
    print(f"model: {plan.name}, {model.count_params():,} parameters", flush=True)
    sample = synthetic(plan, 32)
    exporters = default_exporters()
    rows: list[dict[str, Any]] = []
    artifacts: dict[str, Any] = {}
    # The parity check's floor: the batch through the trained Keras model, which every target's
    # check needs before it runs the artifact at all.
    keras_outputs(model, sample)
    reference_s = statistics.median(timed(lambda: keras_outputs(model, sample)) for _ in range(5))
    print(f"Keras reference outputs for the {len(sample['image'])}-image parity batch: "
          f"{reference_s:.3f} s", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="layerloom-bench-") as tmp:
        root = Path(tmp)
        bare = bare_converters(model, root)
        for target in exporters.targets():
            exporter = exporters[target]
            ours, theirs, convert_only = [], [], []
            for round_ in range(ROUNDS):
                out = root / f"{target}_{round_}"
                out.mkdir()
                ctx = ExportContext(model=model, plan=plan, out_dir=out,
                                    options=exporter.resolve_options({}), sample=sample,
                                    task="classification", model_name=plan.name)  # fmt: skip
                order = [
                    ("ours", lambda c=ctx, e=exporter: run_export(e, c)),
                    ("bare", bare[target]),
                ]
                if round_ % 2:
                    order.reverse()
                for who, work in order:
                    (ours if who == "ours" else theirs).append(timed(work))
                # The export step alone (files, no parity check), into a fresh folder.
                alone = root / f"{target}_{round_}_alone"
                alone.mkdir()
                convert_only.append(
                    timed(lambda e=exporter, c=ctx, a=alone: e.export(replace(c, out_dir=a)))
                )
                artifacts[target] = (exporter, ctx)
            row = {
                "target": target,
                "layerloom_s": statistics.median(ours),
                "bare_s": statistics.median(theirs),
                "export_only_s": statistics.median(convert_only),
            }
            row["overhead"] = row["layerloom_s"] / row["bare_s"] - 1
            row["reference_floor"] = reference_s / row["bare_s"]
            rows.append(row)
            print(
                f"{target:8s} export+parity {row['layerloom_s']:.2f} s   export alone "
                f"{row['export_only_s']:.2f} s   bare converter {row['bare_s']:.2f} s   "
                f"overhead {row['overhead']:+.0%}   (Keras reference alone: "
                f"{row['reference_floor']:+.0%} of bare)",
                flush=True,
            )
        print(f"export worker start-up (python + TensorFlow import): {worker_startup():.2f} s")
        latency(model, plan, artifacts)
    print(json.dumps(rows))


def latency(model: Any, plan: BuildPlan, artifacts: dict[str, Any]) -> None:
    """Median time of one single-image prediction per runtime, next to Keras."""
    one = synthetic(plan, 1, seed=3)
    figures = {
        "keras model(x)": _median(lambda: model(one["image"], training=False)),
        "keras predict_on_batch": _median(lambda: keras_outputs(model, one)),
    }
    for target, (exporter, ctx) in artifacts.items():
        if target in ("keras", "python"):
            continue  # the same Keras runtime as above
        artifact = exporter.export(ctx)
        name = f"{target} ({artifact.runtime})"
        if target == "tfjs":
            # Node starts per parity call; time the prediction itself inside Node, model warm.
            from layerloom.exporters.tfjs import latency_in_node

            figures[name] = latency_in_node(ctx.out_dir, plan, one, LATENCY_CALLS)
        else:
            figures[name] = _median(lambda a=artifact, e=exporter, c=ctx: e.predict(a, c, one))
    base = figures["keras predict_on_batch"]
    for name, seconds in figures.items():
        print(f"latency {name:60s} {seconds * 1000:8.2f} ms  ({seconds / base:.2f}x predict)")


def _median(work: Callable[[], Any], calls: int = LATENCY_CALLS) -> float:
    work()  # warm up: first calls trace or allocate
    return statistics.median(timed(work) for _ in range(calls))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
