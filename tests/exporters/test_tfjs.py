"""The TF.js exporter, end to end: model.json written here, run by the real @tensorflow/tfjs in
Node, and the demo page opened in a real (headless) Chromium.

Every template, the shared multi-input and preprocessing graphs and the catalog coverage model
within 1e-4 of Keras on the wasm backend; a model wasm cannot run (a kernel taken out, or no wasm
package) run on 'cpu' instead, the report naming it; weights split into 4 MB shards; the page
predicting Keras' class; refusals naming the node; a missing npm install named with its fix.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from layerloom.exporters.base import ExportError
from layerloom.exporters.registry import default_exporters
from layerloom.exporters.samples import synthetic
from layerloom.exporters.tfjs import TFJSExporter, node_modules, run_in_node
from layerloom.nodes.compile import build_plan
from layerloom.nodes.graph import Graph
from layerloom.nodes.registry import default_registry
from tests.exporters.harness import TEMPLATES, model_for, plan_named, run_exporter_case
from tests.nodes.builders import add, link
from tests.nodes.test_export_support import token_graph

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
    ),
    pytest.mark.skipif(
        TFJSExporter().unavailable() is not None, reason=str(TFJSExporter().unavailable())
    ),
]

CHROMIUM = Path("/usr/bin/chromium")
DIGITS = [f"digit {i}" for i in range(10)]


def _passes(result, backend: str = "wasm") -> None:
    assert result.passed, result.parity
    assert result.parity["max_abs_error"] <= 1e-4
    assert re.fullmatch(r"TensorFlow\.js 4\.22\.0 \(Node [\d.]+, (WASM|CPU, .+)\)", result.runtime)
    assert result.details["backend"] == backend  # what really ran, as the runtime says
    assert ("WASM)" in result.runtime) == (backend == "wasm")
    assert result.parity["runtime"] == result.runtime


@pytest.mark.parametrize("name", [*TEMPLATES, "multi_io", "preprocessing", "coverage:tfjs"])
def test_graph_runs_in_tfjs_like_keras(name: str, tmp_path: Path) -> None:
    result = run_exporter_case("tfjs", name, tmp_path, samples=4)
    _passes(result)
    files = [Path(f).name for f in result.files]
    assert files[:2] == ["model.json", "group1-shard1of1.bin"] and files[-1] == "parity.json"
    assert {"index.html", "tf.min.js", "model-data.js", "demo.js", "README.md"} <= set(files)


def test_model_json_is_the_keras_2_layers_format(tmp_path: Path) -> None:
    run_exporter_case("tfjs", "multi_io", tmp_path, samples=2)
    document = json.loads((tmp_path / "model.json").read_text())
    config = document["modelTopology"]["config"]
    assert document["format"] == "layers-model"
    assert config["input_layers"] == [["features", 0, 0], ["image", 0, 0]]
    assert config["output_layers"] == [["kind", 0, 0], ["value", 0, 0]]
    layers = {layer["name"]: layer for layer in config["layers"]}
    assert layers["image"]["config"]["batch_input_shape"] == [None, 8, 8, 1]
    assert layers["merged"]["inbound_nodes"] == [[["dense", 0, 0, {}], ["pooled", 0, 0, {}]]]
    assert layers["conv"]["config"]["dtype"] == "float32"  # a policy object in Keras 3
    names = {w["name"] for w in document["weightsManifest"][0]["weights"]}
    assert {"conv/kernel", "conv/bias", "kind/kernel", "value/bias"} <= names


def test_big_weights_are_split_into_4_mb_shards(tmp_path: Path) -> None:
    registry = default_registry()
    graph = Graph()
    pixels = add(graph, registry, "keras.Input", "pixels", shape=(784,))
    wide = add(graph, registry, "Dense", "wide", units=1600, activation="relu")
    link(graph, pixels, wide)
    out = add(graph, registry, "Dense", "out", units=3, activation="softmax")
    link(graph, wide, out)
    result = run_exporter_case("tfjs", build_plan(graph, registry, "wide"), tmp_path, samples=2)
    _passes(result)
    shards = sorted(p.name for p in tmp_path.glob("group1-shard*.bin"))
    assert shards == ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    assert (tmp_path / shards[0]).stat().st_size == 4 * 1024 * 1024


def _graph_with(type_name: str, **params) -> Graph:
    registry = default_registry()
    graph = Graph()
    source = add(graph, registry, "keras.Input", "steps", shape=(6, 3))
    layer = add(graph, registry, type_name, "bad_node", **params)
    link(graph, source, layer)
    return graph


@pytest.mark.parametrize(
    ("type_name", "params", "reason"),
    [
        ("GRU", {"units": 4}, "reset_after=True"),  # Keras' default
        ("Dense", {"units": 2, "activation": "exponential"}, "no 'exponential' activation"),
    ],
)
def test_a_node_tfjs_cannot_take_is_refused_by_name(type_name, params, reason, tmp_path) -> None:
    registry = default_registry()
    plan = build_plan(_graph_with(type_name, **params), registry, "bad")
    with pytest.raises(ExportError, match=f"node 'bad_node' \\({type_name}\\).*{reason}"):
        run_exporter_case("tfjs", plan, tmp_path, samples=2)
    assert not (tmp_path / "model.json").exists()  # refused before anything was written


def test_a_padding_mask_tfjs_would_mishandle_is_refused_naming_the_reader(tmp_path) -> None:
    registry = default_registry()
    plan = build_plan(token_graph(registry, True, sequences=None), registry, "tokens")
    reason = "padding mask of 'embed' \\(Embedding mask_zero=True\\)"
    with pytest.raises(ExportError, match=f"node 'pooled' \\(GlobalAveragePooling1D\\).*{reason}"):
        run_exporter_case("tfjs", plan, tmp_path, samples=2)


def test_a_padding_mask_that_an_lstm_consumes_runs_in_tfjs_like_keras(tmp_path) -> None:
    """The ids hold zeros (padding): the LSTM must skip those steps in tfjs as in Keras."""
    registry = default_registry()
    plan = build_plan(token_graph(registry, True, sequences=False), registry, "tokens")
    _passes(run_exporter_case("tfjs", plan, tmp_path, samples=8))


def test_a_model_tfjs_rejects_fails_with_its_message(tmp_path: Path) -> None:
    plan = plan_named("mlp_classifier")
    run_exporter_case("tfjs", plan, tmp_path, samples=2)
    document = json.loads((tmp_path / "model.json").read_text())
    document["modelTopology"]["config"]["layers"][1]["class_name"] = "NoSuchLayer"
    (tmp_path / "model.json").write_text(json.dumps(document))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(ExportError, match="TF.js could not run the model: .*NoSuchLayer"):
        run_in_node(tmp_path, plan, synthetic(plan, 2), scratch)


def _node_modules_with_wasm(tmp_path: Path, wasm_main: str | None) -> Path:
    """A node_modules linking to the real @tensorflow packages, its tfjs-backend-wasm replaced
    by a package whose main is ``wasm_main`` (None: no such package)."""
    real = node_modules() / "@tensorflow"
    scoped = tmp_path / "node_modules" / "@tensorflow"
    scoped.mkdir(parents=True)
    for package in real.iterdir():
        if package.name != "tfjs-backend-wasm":
            (scoped / package.name).symlink_to(package)
    if wasm_main is not None:
        wasm = scoped / "tfjs-backend-wasm"
        wasm.mkdir()
        (wasm / "dist").symlink_to(real / "tfjs-backend-wasm" / "dist")  # the .wasm binaries
        (wasm / "package.json").write_text('{"name": "@tensorflow/tfjs-backend-wasm"}')
        (wasm / "index.js").write_text(wasm_main)
    return scoped.parent


def test_a_kernel_the_wasm_backend_lacks_makes_the_cpu_backend_run_the_model(
    tmp_path: Path, monkeypatch
) -> None:
    # The real wasm backend with its Softmax kernel taken out: the classifier's last layer fails
    # there mid-predict, so the model runs again on 'cpu' and the report names that backend.
    real = node_modules() / "@tensorflow" / "tfjs-backend-wasm"
    main = (
        f"module.exports = require({json.dumps(str(real))});\n"
        "require('@tensorflow/tfjs-core').unregisterKernel('Softmax', 'wasm');\n"
    )
    monkeypatch.setenv("LAYERLOOM_NODE_MODULES", str(_node_modules_with_wasm(tmp_path, main)))
    result = run_exporter_case("tfjs", "mlp_classifier", tmp_path / "export", samples=4)
    _passes(result, backend="cpu")
    assert result.runtime.endswith(", CPU, as WASM has no Softmax kernel)")
    assert "Kernel 'Softmax' not registered" in result.details["wasm_failure"]
    readme = (tmp_path / "export" / "README.md").read_text()
    assert re.search(r"Keras in TensorFlow\.js 4\.22\.0 \(Node [\d.]+\): see `parity", readme)


def test_without_the_wasm_package_the_cpu_backend_runs_the_model(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("LAYERLOOM_NODE_MODULES", str(_node_modules_with_wasm(tmp_path, None)))
    result = run_exporter_case("tfjs", "small_cnn", tmp_path / "export", samples=4)
    _passes(result, backend="cpu")
    assert result.runtime.endswith(", CPU, as WASM could not run it)")
    assert "tfjs-backend-wasm is not installed" in result.details["wasm_failure"]


def test_missing_npm_packages_say_how_to_install_them(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LAYERLOOM_NODE_MODULES", str(tmp_path))
    message = default_exporters()["tfjs"].unavailable()
    assert message and "@tensorflow/tfjs" in message
    assert f"run `npm ci` in {Path(__file__).resolve().parents[2]}" in message


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium is not installed (installer/setup.sh installs it)",
)
def test_demo_page_opened_from_disk_predicts_the_keras_class(tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = run_exporter_case("tfjs", "small_cnn", out, samples=4, class_names=DIGITS)
    _passes(result)
    readme = (out / "README.md").read_text()
    assert "tf.loadLayersModel('model.json')" in readme and "`image` | (28, 28, 1)" in readme
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=30000",
        "--dump-dom",
        (out / "index.html").as_uri(),  # file://, as when double-clicked
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
    found = re.search(r'<pre id="result">([^<]+)</pre>', done.stdout)
    assert found, done.stdout[-2000:] or done.stderr[-2000:]
    shown = json.loads(found.group(1))
    plan = plan_named("small_cnn")
    first = synthetic(plan, 4)["image"][:1]  # the page's sample: the parity batch's first row
    keras_row = np.asarray(model_for(plan).predict_on_batch(first))[0]
    assert shown["top1"] == int(np.argmax(keras_row))
    assert np.abs(np.asarray(shown["outputs"][0]) - keras_row).max() <= 1e-4
    assert "Ready: TensorFlow.js 4.22.0" in done.stdout and "digit " in done.stdout
