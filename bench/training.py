"""Training throughput through Layerloom (orchestrator + worker subprocess + event recording) vs
the same model hand-written in plain Keras ``model.fit``, same data, same batch size, same run.

Layerloom's figure comes from the worker's own batch events (samples/s between events), so the
worker's start-up (TensorFlow import, model build) is excluded. Plain Keras runs in a fresh process
too and is timed over the same windows (epoch start to every 10th batch) by a callback that only
reads the clock. Epoch 1 (tracing) is excluded on both sides; rounds alternate who goes first. A
second figure compares whole epochs (validation included, and Layerloom's checkpoint writes).

Run from the repository root: .venv/bin/python -m bench.training   (see bench/README.md)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from layerloom.app.workbench import create_project
from layerloom.app.workbench.training import start_run
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import make_pipelines, open_source, sample_for_template

ROUNDS = 6
EVENT_EVERY = 10  # the worker's default batch_event_every


def hand_written(keras: Any, template: str) -> Any:
    """The templates' models written directly in Keras, as a user would without Layerloom."""
    layers = keras.layers
    if template == "small_cnn":
        inputs = keras.Input((28, 28, 1))
        x = layers.Rescaling(1 / 255)(inputs)
        x = layers.Conv2D(16, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(32, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(0.25)(layers.Flatten()(x))
        outputs = layers.Dense(10, activation="softmax")(x)
    else:
        inputs = keras.Input((20,))
        x = layers.Dense(64, activation="relu")(inputs)
        x = layers.Dense(32, activation="relu")(layers.Dropout(0.2)(x))
        outputs = layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def plain_keras(template: str, batch_size: int, epochs: int) -> dict[str, list[float]]:
    """The hand-written model's ``fit``: per epoch (2..N), samples/s over the same windows the
    worker's batch events cover, and each epoch's wall time (validation included)."""
    from layerloom.nodes.keras_runtime import load_keras
    from layerloom.nodes.registry import default_registry
    from layerloom.nodes.templates import load_template

    keras = load_keras()
    registry = default_registry()
    plan = build_plan(load_template(template, registry), registry)
    data = make_pipelines(open_source(sample_for_template(template)), plan, batch_size, seed=42)
    model = hand_written(keras, template)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )
    marks: list[list[tuple[int, float]]] = []
    ends: list[float] = []

    class Clock(keras.callbacks.Callback):
        # With the TensorFlow backend Keras runs batch hooks synchronously and converts every
        # batch's logs anyway, so reading the clock here costs about a microsecond.
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            marks.append([(0, time.perf_counter())])

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if (batch + 1) % EVENT_EVERY == 0:
                marks[-1].append((batch + 1, time.perf_counter()))

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            ends.append(time.perf_counter())

    model.fit(
        data.train,
        validation_data=data.validation,
        epochs=epochs,
        callbacks=[Clock()],
        verbose=0,
        shuffle=False,
    )
    train = []
    for epoch in marks[1:]:
        (_, start), (step, stop) = epoch[0], epoch[-1]
        train.append(min(step * batch_size, data.num_train) / (stop - start))
    return {"train": train, "epoch": [b - a for a, b in zip(ends, ends[1:], strict=False)]}


def layerloom(template: str, batch_size: int, epochs: int, folder: Path) -> dict[str, list[float]]:
    """Through the orchestrator and a worker: per epoch (2..N), samples/s from the worker's batch
    events, and the time between consecutive epoch events (validation and checkpoints included)."""
    path = folder / f"{template}-{time.monotonic_ns()}.loom"
    with create_project(path, template) as opened:
        settings = {"epochs": epochs, "batch_size": batch_size, "batch_event_every": EVENT_EVERY}
        session = start_run(opened, settings)
        events = list(session.events())
        session.close()
    assert session.status == "finished", session.error
    count = next(e for e in events if e["type"] == "started")["samples"]["train"]
    per_epoch: dict[int, list[float]] = {}
    previous = 0
    for event in events:
        if event["type"] == "epoch":
            previous = 0
        if event["type"] != "batch" or event["epoch"] < 2:
            continue
        step = event["step"]
        seconds = (step - previous) * batch_size / event["samples_per_second"]
        samples = min(step * batch_size, count) - min(previous * batch_size, count)
        totals = per_epoch.setdefault(event["epoch"], [0.0, 0.0])
        totals[0] += samples
        totals[1] += seconds
        previous = step
    stamps = [e["time"] for e in events if e["type"] == "epoch"]
    return {
        "train": [samples / seconds for samples, seconds in per_epoch.values()],
        "epoch": [b - a for a, b in zip(stamps, stamps[1:], strict=False)],
    }


def plain_keras_process(template: str, batch_size: int, epochs: int) -> dict[str, list[float]]:
    """``plain_keras`` in a fresh process, so both sides start from the same clean state."""
    command = [sys.executable, "-m", "bench.training", "--plain", template, str(batch_size)]
    result = subprocess.run(
        [*command, str(epochs)], capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _quartiles(values: list[float]) -> str:
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"{q1:.0f}-{q3:.0f}"


def main() -> None:
    # Epochs long enough to time (the MLP's take ~0.1 s), rounds alternating who goes first.
    cases = [("small_cnn", 32, 6), ("mlp_classifier", 32, 20)]
    cases = [case for case in cases if case[0] in sys.argv[1:]] or cases  # optional: pick some
    with tempfile.TemporaryDirectory() as tmp:
        for template, batch_size, epochs in cases:
            ours: dict[str, list[float]] = {"train": [], "epoch": []}
            theirs: dict[str, list[float]] = {"train": [], "epoch": []}
            for round_ in range(ROUNDS):
                # Alternate who goes first: drifting load on a shared machine hits both alike.
                for side in ("keras", "layerloom") if round_ % 2 else ("layerloom", "keras"):
                    if side == "keras":
                        measured, into = plain_keras_process(template, batch_size, epochs), theirs
                    else:
                        measured, into = layerloom(template, batch_size, epochs, Path(tmp)), ours
                    for key, values in measured.items():
                        into[key] += values
            a, b = statistics.median(ours["train"]), statistics.median(theirs["train"])
            print(
                f"{template} (batch {batch_size}, epochs 2..{epochs}, {ROUNDS} rounds, median "
                f"epoch of {len(ours['train'])} vs {len(theirs['train'])}):\n"
                f"  training samples/s: layerloom {a:7.0f}, plain keras {b:7.0f}, "
                f"ratio {a / b:.3f} (quartiles {_quartiles(ours['train'])} vs "
                f"{_quartiles(theirs['train'])})"
            )
            a, b = statistics.median(ours["epoch"]), statistics.median(theirs["epoch"])
            print(
                f"  whole epoch incl. validation (+ checkpoints for layerloom): "
                f"{a * 1000:.0f} ms vs {b * 1000:.0f} ms, throughput ratio {b / a:.3f}"
            )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--plain":
        print(json.dumps(plain_keras(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        main()
