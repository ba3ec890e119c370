"""From a user's own files to a model on the phone, with the CLI alone, against a hand-written
Keras + scikit-learn baseline on the same split.

Public datasets that ship inside scikit-learn (no download): Iris, Wine and Breast Cancer
(tabular classification; Wine and Breast Cancer mix features from ~0.01 to ~1000s), Diabetes with
its raw, unscaled features (regression), and the 8x8 Digits written as PNG files of mixed sizes
into class folders (images). None of them is in the repository or in its tests.

For each: ``layerloom new P.loom --csv F --target T`` (or ``--images DIR``), ``train``,
``evaluate --split test``, ``export --target tflite``, ``predict`` on the test files. Then, as a
phone app would, the raw test inputs go through ``input.json`` (CSV) or the README's resize rule
(images) into the exported ``model.tflite`` in LiteRT, and its top-1 / values are compared with
``layerloom predict``. The baseline is the same layer sizes written in Keras, its features scaled
with scikit-learn's ``StandardScaler`` fitted on the same training rows, trained for the same
epochs and batch size with the same optimizer.

Needs scikit-learn (``pip install -e '.[bench]'``). Run from the repository root:
    .venv/bin/python -m bench.own_data [EPOCHS]        (see bench/README.md)
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

LAYERLOOM = [sys.executable, "-m", "layerloom"]


def cli(*args: str) -> str:
    done = subprocess.run([*LAYERLOOM, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"layerloom {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def tabular(folder: Path) -> list[dict[str, Any]]:
    from sklearn import datasets

    made = []
    for name, loader, task in (
        ("iris", datasets.load_iris, "classification"),
        ("wine", datasets.load_wine, "classification"),
        ("breast_cancer", datasets.load_breast_cancer, "classification"),
        ("diabetes", lambda: datasets.load_diabetes(scaled=False), "regression"),
    ):
        bunch = loader()
        columns = [str(c).replace(" ", "_") for c in bunch.feature_names]
        if task == "classification":
            target = [str(bunch.target_names[i]) for i in bunch.target]
        else:
            target = [float(v) for v in bunch.target]
        path = folder / f"{name}.csv"
        rows = [[*map(float, x), y] for x, y in zip(bunch.data, target, strict=True)]
        write_csv(path, [*columns, "target"], rows)
        made.append({"name": name, "kind": "csv", "path": path, "task": task})
    return made


def digit_images(folder: Path) -> dict[str, Any]:
    import tensorflow as tf
    from sklearn import datasets

    bunch = datasets.load_digits()
    rng = np.random.default_rng(0)
    root = folder / "digits"
    for index, (image, label) in enumerate(zip(bunch.images, bunch.target, strict=True)):
        side = int(rng.integers(16, 41))  # mixed sizes: the contract's resize rule matters
        pixels = tf.image.resize((image * 255 / 16)[..., None], (side, side), method="nearest")
        target = root / f"digit_{label}"
        target.mkdir(parents=True, exist_ok=True)
        png = tf.io.encode_png(tf.cast(tf.round(pixels), tf.uint8)).numpy()
        (target / f"{index:04d}.png").write_bytes(png)
    return {"name": "digits (png)", "kind": "images", "path": root, "task": "classification"}


def split_of(project: Path) -> tuple[Any, dict[str, np.ndarray]]:
    from layerloom.app.workbench import open_project
    from layerloom.nodes.datasets import dataset_spec_for, open_source

    with open_project(project) as opened:
        spec = dataset_spec_for(opened)
    source = open_source(spec)
    return source, source.split_indices()


def test_rows(source: Any, indices: np.ndarray, folder: Path) -> Path:
    """The test split's rows as their own CSV (the target column kept: predict ignores it)."""
    table = source.table()
    path = folder / f"{source.path.stem}_test.csv"
    rows = [[table.columns[h][i] for h in table.header] for i in indices]
    write_csv(path, table.header, rows)
    return path


def hidden_units(project: Path) -> list[int]:
    info = json.loads(cli("info", str(project), "--json"))
    dense = [n for n in info["nodes"] if n["type"] == "keras.layers.Dense"]
    return [int(n["params"]["units"]) for n in dense[:-1]]


def baseline(source: Any, split: dict[str, np.ndarray], task: str, units: list[int], epochs: int):
    import keras
    from sklearn.preprocessing import StandardScaler

    table = source.table()
    features = [h for h in table.header if h != "target"]
    x = np.array([[float(v) for v in table.columns[h]] for h in features]).T
    raw_y = table.columns["target"]
    if task == "classification":
        names = sorted(set(raw_y))
        y = np.array([names.index(v) for v in raw_y])
    else:
        y = np.array([float(v) for v in raw_y])
    scaler = StandardScaler().fit(x[split["train"]])
    keras.utils.set_random_seed(42)
    model = keras.Sequential([keras.Input((x.shape[1],))])
    for width in units:
        model.add(keras.layers.Dense(width, activation="relu"))
    if task == "classification":
        model.add(keras.layers.Dense(len(names), activation="softmax"))
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        model.add(keras.layers.Dense(1))
        model.compile("adam", "mean_squared_error", metrics=["mae"])
    model.fit(
        scaler.transform(x[split["train"]]), y[split["train"]], epochs=epochs, batch_size=32,
        validation_data=(scaler.transform(x[split["validation"]]), y[split["validation"]]),
        verbose=0,
    )  # fmt: skip
    figures = model.evaluate(scaler.transform(x[split["test"]]), y[split["test"]], verbose=0)
    return figures[1]


def image_baseline(source: Any, split: dict[str, np.ndarray], epochs: int) -> float:
    """The small CNN written in Keras (bench.training's hand-written small_cnn), images read with
    PIL-free TensorFlow and resized to 28x28 the usual way, same split."""
    import keras
    import tensorflow as tf

    from bench.training import hand_written

    listing = source.listing()

    def load(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = [
            tf.image.resize(
                tf.io.decode_image((source.path / listing.files[i]).read_bytes(), channels=1),
                (28, 28),
            ).numpy()
            for i in indices
        ]
        return np.array(images), listing.labels[indices]

    keras.utils.set_random_seed(42)
    model = hand_written(keras, "small_cnn")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(*load(split["train"]), epochs=epochs, batch_size=32, verbose=0,
              validation_data=load(split["validation"]))  # fmt: skip
    return float(model.evaluate(*load(split["test"]), verbose=0)[1])


def tflite_outputs(export: Path, inputs: list[np.ndarray]) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(export / "model.tflite"))
    interpreter.allocate_tensors()
    entry, exit_ = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    outputs = []
    for x in inputs:
        interpreter.resize_tensor_input(entry["index"], [1, *x.shape])
        interpreter.allocate_tensors()
        interpreter.set_tensor(entry["index"], x[None].astype(entry["dtype"]))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(exit_["index"])[0])
    return np.array(outputs)


def phone_inputs_csv(export: Path, rows_file: Path) -> list[np.ndarray]:
    """What an app does with input.json: encode each raw row (the contract's rule, by hand)."""
    contract = json.loads((export / "input.json").read_text(encoding="utf-8"))
    (columns,) = contract["columns"].values()
    with rows_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    encoded = []
    for row in rows:
        vector: list[float] = []
        for column in columns:
            if column["kind"] == "numeric":
                vector.append(float(row[column["name"]]))
            else:
                vector += [float(row[column["name"]] == v) for v in column["vocabulary"]]
        encoded.append(np.array(vector, dtype=np.float32))
    return encoded


def phone_inputs_images(export: Path, files: list[Path]) -> list[np.ndarray]:
    """The README's rule: decode, convert to the stated colour mode, resize bilinear, 0..255."""
    import tensorflow as tf

    rule = json.loads((export / "input.json").read_text(encoding="utf-8"))["image"]
    out = []
    for path in files:
        image = tf.io.decode_image(path.read_bytes(), channels=rule["channels"])
        out.append(tf.image.resize(image, (rule["height"], rule["width"])).numpy())
    return out


def one(case: dict[str, Any], work: Path, epochs: int) -> dict[str, Any]:
    project = work / f"{case['name'].split()[0]}.loom"
    flag = ["--csv", str(case["path"]), "--target", "target"] if case["kind"] == "csv" else [
        "--images", str(case["path"])
    ]  # fmt: skip
    created = cli("new", str(project), *flag)
    cli("train", str(project), "--epochs", str(epochs))
    evaluation = json.loads(cli("evaluate", str(project), "--split", "test", "--json"))
    export = work / f"{project.stem}_tflite"
    cli("export", str(project), "--target", "tflite", "-o", str(export))
    source, split = split_of(project)
    if case["kind"] == "csv":
        inputs_path = test_rows(source, split["test"], work)
        predicted = json_lines(cli("predict", str(project), str(inputs_path), "--json"))
        phone = tflite_outputs(export, phone_inputs_csv(export, inputs_path))
        units = hidden_units(project)
        reference = baseline(source, split, case["task"], units, epochs)
    else:
        files = [source.path / source.listing().files[i] for i in split["test"]]
        predicted = json_lines(cli("predict", str(project), *map(str, files), "--json"))
        phone = tflite_outputs(export, phone_inputs_images(export, files))
        reference = image_baseline(source, split, epochs)
    rows = predicted
    if case["task"] == "classification":
        names = (
            evaluation.get("classes")
            or json.loads((export / "input.json").read_text(encoding="utf-8"))["class_names"]
        )
        ours = [row["top"][0]["label"] for row in rows]
        theirs = [names[int(np.argmax(p))] for p in phone]
        agreement = float(np.mean([a == b for a, b in zip(ours, theirs, strict=True)]))
        figure = evaluation["accuracy"]
        difference = None
    else:
        ours_values = np.array([np.ravel(row["value"]) for row in rows], dtype=np.float64)
        difference = float(np.max(np.abs(ours_values - phone.reshape(ours_values.shape))))
        agreement = None
        figure = evaluation["mae"]
    return {
        "dataset": case["name"],
        "task": case["task"],
        "chosen": created.strip().splitlines()[:3],
        "layerloom_test": figure,
        "baseline_test": reference,
        "tflite_vs_predict_top1": agreement,
        "tflite_vs_predict_max_abs": difference,
        "test_examples": len(rows),
    }


def main(epochs: int = 30) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = [*tabular(work), digit_images(work)]
        results = [one(case, work, epochs) for case in cases]
    print(f"epochs: {epochs}")
    print("| dataset | task | Layerloom test | baseline test | TF Lite vs predict |")
    print("|---|---|---|---|---|")
    for r in results:
        metric = "accuracy" if r["task"] == "classification" else "MAE"
        base = "—" if r["baseline_test"] is None else f"{r['baseline_test']:.3f}"
        if r["tflite_vs_predict_top1"] is not None:
            parity = f"top-1 agreement {r['tflite_vs_predict_top1']:.3f}"
        else:
            parity = f"max abs difference {r['tflite_vs_predict_max_abs']:.2e}"
        print(
            f"| {r['dataset']} ({r['test_examples']} test) | {r['task']} |"
            f" {metric} {r['layerloom_test']:.3f} | {base} | {parity} |"
        )
    print(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
