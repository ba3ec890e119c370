"""The TF Lite exporter, end to end in this process: the real converter, the real LiteRT interpreter.

Every template and the shared graphs in float32 (values within 1e-4 of Keras), the quantised modes on
the classifiers (top-1 agreement), int8 with really integer tensors at the edges and every catalog
layer through the int8 converter, the files next to the model, and the refusals: an LSTM without a
fixed length, a layer TF Lite has no op for, bad options.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from layerloom.exporters.base import Artifact, ExportContext, ExportError
from layerloom.exporters.registry import default_exporters
from layerloom.exporters.run import ExportResult, run_export
from layerloom.exporters.samples import synthetic
from layerloom.exporters.tflite import TFLiteExporter, conversion_error
from layerloom.nodes.compile import build_plan
from layerloom.nodes.graph import Graph
from layerloom.nodes.registry import default_registry
from tests.exporters.harness import (
    TEMPLATES,
    classification_of,
    model_for,
    plan_named,
    run_exporter_case,
)
from tests.nodes.builders import add, link

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None
        or importlib.util.find_spec("ai_edge_litert") is None,
        reason="TensorFlow or ai-edge-litert is not installed",
    ),
]

IRIS = ["setosa", "versicolor", "virginica"]


def interpreter_for(path: Path):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path))


def export_decided(
    name: str, out_dir: Path, options: dict, samples: int = 32, target: str = "tflite"
) -> ExportResult:
    """Like ``run_exporter_case``, with a parity batch the model is decided about.

    An untrained network scores random inputs nearly alike (small_cnn's top two classes are
    ~0.004 apart on 0..255 noise), so int8 rounding flips its top class at random; a trained model
    on its own data is decided. So: 256 random inputs in the template's range (0..255 pixels in
    front of a Rescaling), and the ``samples`` with Keras' widest top-1 margin.
    """
    plan = plan_named(name)
    model = model_for(plan)
    exporter = default_exporters()[target]
    rng = np.random.default_rng(0)
    pixels = any(layer.class_name == "Rescaling" for layer in plan.layers)
    pool = {
        i.name: (
            rng.uniform(0, 255, (256, *i.shape)) if pixels else rng.standard_normal((256, *i.shape))
        ).astype("float32")
        for i in plan.inputs
    }
    scores = np.sort(model.predict_on_batch(list(pool.values())), axis=-1)
    decided = np.argsort(scores[:, -1] - scores[:, -2])[-samples:]
    out_dir.mkdir(parents=True)
    ctx = ExportContext(
        model=model,
        plan=plan,
        out_dir=out_dir,
        options=exporter.resolve_options(options),
        sample={name: batch[decided] for name, batch in pool.items()},
        task=classification_of(plan),  # representative stays empty: int8 calibrates on `sample`
    )
    return run_export(exporter, ctx)


@pytest.fixture(scope="module")
def float32_export(tmp_path_factory) -> Callable[[str], ExportResult]:
    """One float32 export per graph for the whole module (the unrolled LSTM takes seconds)."""
    done: dict[str, ExportResult] = {}

    def export(graph: str) -> ExportResult:
        if graph not in done:
            out_dir = tmp_path_factory.mktemp(graph.replace(":", "_")) / "out"
            done[graph] = run_exporter_case("tflite", graph, out_dir)
        return done[graph]

    return export


def folder_of(result: ExportResult) -> Path:
    return Path(result.files[0]).parent


# --- float32: every graph the exporters are held to -------------------------------------------


@pytest.mark.parametrize("graph", [*TEMPLATES, "multi_io", "preprocessing", "coverage:tflite"])
def test_float32_matches_keras(graph, float32_export) -> None:
    result = float32_export(graph)
    assert result.passed, result.parity["reason"]
    assert result.parity["max_abs_error"] <= 1e-4
    assert result.runtime == f"LiteRT {version('ai-edge-litert')} interpreter"
    assert Path(result.files[0]).name == "model.tflite"
    plan = plan_named(graph)
    assert [i["name"] for i in result.details["inputs"]] == [i.name for i in plan.inputs]
    assert [o["name"] for o in result.details["outputs"]] == plan.outputs
    # The batch stays dynamic: a phone app resizes it, and parity ran 16 samples through it.
    assert all(i["shape"][0] is None for i in result.details["inputs"])
    assert result.details["quantization"] == "float32"
    json.dumps(result.details, allow_nan=False)  # shown to the user and stored as it is


def test_multi_io_outputs_come_back_in_plan_order_at_any_batch_size(
    float32_export, tmp_path
) -> None:
    result = float32_export("multi_io")
    details = {o["name"]: o for o in result.details["outputs"]}
    assert details["kind"]["shape"] == [None, 3] and details["value"]["shape"] == [None, 1]
    # TF Lite lists this model's outputs value-first; the signature puts them back in plan order.
    assert {o["position"] for o in details.values()} == {0, 1}
    plan = plan_named("multi_io")
    exporter = TFLiteExporter()
    ctx = ExportContext(model_for(plan), plan, tmp_path, {}, sample={})
    # No handle: predict loads the file again, as a later session would.
    artifact = Artifact([Path(f) for f in result.files], result.runtime, result.details)
    batch = synthetic(plan, 3, seed=5)
    kind, value = exporter.predict(artifact, ctx, batch)
    reference = model_for(plan).predict_on_batch([batch["features"], batch["image"]])
    np.testing.assert_allclose(kind, reference[0], atol=1e-5)
    np.testing.assert_allclose(value, reference[1], atol=1e-5)


def test_recurrent_layers_are_unrolled_into_builtin_ops(float32_export) -> None:
    result = float32_export("lstm_sequence")
    assert result.details["unrolled"] == ["lstm_1", "lstm_2"]
    # The stock interpreter (no Flex delegate) ran it for the parity check, and passed.
    assert result.passed, result.parity["reason"]
    readme = (folder_of(result) / "README.md").read_text(encoding="utf-8")
    assert "unrolled" in readme and "`lstm_1`" in readme


# --- quantised ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["dynamic", "float16", "int8"])
@pytest.mark.parametrize("template", ["small_cnn", "mlp_classifier"])
def test_quantised_classifiers_keep_the_top_class(template, mode, tmp_path) -> None:
    result = export_decided(template, tmp_path / "out", {"quantization": mode})
    assert result.passed, result.parity["reason"]
    assert result.parity["tolerance"]["min_top1_agreement"] == 0.95
    assert result.parity["top1_agreement"] >= 0.95
    params = model_for(plan_named(template)).count_params()
    if mode in ("dynamic", "int8"):  # int8 weights: about a quarter of float32's 4 bytes each
        assert result.details["size_bytes"] < 2 * params
    if mode == "int8":
        assert_int8_edges(result)


def assert_int8_edges(result: ExportResult) -> None:
    """The file itself (read by a fresh interpreter) takes and gives int8, and says how to scale."""
    interpreter = interpreter_for(Path(result.files[0]))
    (tensor,) = interpreter.get_input_details()
    assert tensor["dtype"] == np.int8 and tensor["quantization"][0] > 0
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    (facts,) = result.details["inputs"]
    assert facts["dtype"] == "int8"
    assert facts["quantization"]["scale"] == pytest.approx(tensor["quantization"][0])
    readme = (folder_of(result) / "README.md").read_text(encoding="utf-8")
    assert "round(x / scale) + zero_point" in readme and "(q - zero_point) * scale" in readme
    assert f"{facts['quantization']['scale']!r}f" in readme  # the Kotlin snippet's constant


def test_int8_keeps_token_ids_integer(tmp_path) -> None:
    result = run_exporter_case(
        "tflite",
        "transformer_encoder",
        tmp_path / "out",
        {"quantization": "int8"},
        samples=8,
        representative=8,
    )
    assert result.passed, result.parity["reason"]
    (tokens,) = result.details["inputs"]
    assert tokens["dtype"] == "int32" and tokens["quantization"] is None


def test_int8_lstm_calibrates_unrolled(tmp_path) -> None:
    # A fixed-batch (rolled) LSTM once crashed the calibrator natively; unrolled it is plain ops.
    result = run_exporter_case(
        "tflite",
        "lstm_sequence",
        tmp_path / "out",
        {"quantization": "int8"},
        samples=8,
        representative=8,
    )
    assert result.passed, result.parity["reason"]
    assert result.details["inputs"][0]["dtype"] == "int8"


def test_every_catalog_layer_converts_to_int8_and_runs(tmp_path) -> None:
    # The point is that the full-integer converter takes every layer and the stock interpreter
    # runs all branches to finite values (compare() fails on NaN/inf); the branches' random,
    # unnormalised outputs span wide ranges, so their int8 error bound is waived here.
    result = run_exporter_case(
        "tflite",
        "coverage:tflite.int8",
        tmp_path / "out",
        {"quantization": "int8", "max_quantized_error": 1e6},
        samples=8,
        representative=8,
    )
    assert result.passed, result.parity["reason"]
    assert len(result.parity["outputs"]) == len(plan_named("coverage:tflite.int8").outputs)


def test_quantised_regression_is_held_to_max_quantized_error(tmp_path) -> None:
    result = run_exporter_case(
        "tflite", "dense_autoencoder", tmp_path / "out", {"quantization": "dynamic"}, samples=8
    )
    assert result.passed, result.parity["reason"]
    assert result.parity["tolerance"] == {
        "max_abs_error": 0.1,
        "min_top1_agreement": None,
        "other_outputs_max_abs_error": None,
    }


# --- the files next to the model ---------------------------------------------------------------


def test_readme_and_labels_describe_the_model(tmp_path) -> None:
    result = run_exporter_case(
        "tflite", "mlp_classifier", tmp_path / "out", samples=4, class_names=IRIS
    )
    names = [Path(f).name for f in result.files]
    assert names == ["model.tflite", "README.md", "input.json", "labels.txt", "parity.json"]
    labels = (tmp_path / "out" / "labels.txt").read_text(encoding="utf-8")
    assert labels == "setosa\nversicolor\nvirginica\n"
    readme = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    for expected in (
        "| `features` | 0 | [batch, 20] | float32 | - |",
        "| `classes` | 0 | [batch, 3] | float32 | - |",
        "probabilities of the 3 classes",
        "labels.txt",
        "- Output classes: one score per class, in order: setosa, versicolor, virginica",
        "import org.tensorflow.lite.Interpreter",
        "val features = Array(1) { FloatArray(20) }",
        'interpreter.runSignature(mapOf("features" to features), mapOf("classes" to classes))',
        "import TensorFlowLite",
        "try interpreter.resizeInput(at: 0, to: Tensor.Shape([1, 20]))",
        "try interpreter.output(at: 0)",
    ):
        assert expected in readme, expected


def test_no_labels_without_class_names_and_preprocessing_is_listed(float32_export) -> None:
    result = float32_export("small_cnn")
    assert [Path(f).name for f in result.files] == [
        "model.tflite",
        "README.md",
        "input.json",
        "parity.json",
    ]
    readme = (folder_of(result) / "README.md").read_text(encoding="utf-8")
    assert "`rescale` (Rescaling): multiplies by 0.00392157" in readme
    assert "Array(1) { Array(28) { Array(28) { FloatArray(1) } } }" in readme
    assert "[Float32](repeating: 0, count: 784)" in readme


# --- refusals ----------------------------------------------------------------------------------


def _sequence_plan(layer_type: str, **params):
    registry = default_registry()
    graph = Graph()
    sequence = add(graph, registry, "keras.Input", "sequence", shape=(None, 4))
    recurrent = add(graph, registry, layer_type, "lstm_1", **params)
    link(graph, sequence, recurrent)
    out = add(graph, registry, "Dense", "out", units=2, activation="softmax")
    link(graph, recurrent, out)
    return build_plan(graph, registry, "open_length")


@pytest.mark.parametrize(
    ("layer_type", "label"), [("LSTM", "LSTM"), ("Bidirectional", "Bidirectional")]
)
def test_recurrent_layer_without_fixed_length_is_refused_by_name(
    layer_type, label, tmp_path
) -> None:
    plan = _sequence_plan(layer_type, units=4)
    with pytest.raises(ExportError, match=rf"node 'lstm_1' \({label}\): TF Lite needs a fixed"):
        run_exporter_case("tflite", plan, tmp_path / "out", samples=2)


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"quantization": "int4"}, "quantization must be one of"),
        ({"max_quantized_error": -1.0}, "max_quantized_error must be >= 0.0"),
        ({"min_top1_agreement": "most"}, "must be a number"),
        ({"calibration": 10}, "has no option 'calibration'"),
    ],
)
def test_bad_options_are_refused(given, problem) -> None:
    with pytest.raises(ExportError, match=problem):
        TFLiteExporter().resolve_options(given)


def test_options_limit_keys_and_tolerances() -> None:
    exporter = default_exporters()["tflite"]
    assert isinstance(exporter, TFLiteExporter) and exporter.title == "Phone (TF Lite)"
    options = exporter.resolve_options({"quantization": "int8", "max_quantized_error": "0.5"})
    assert options == {
        "quantization": "int8",
        "max_abs_error": 1e-4,
        "min_top1_agreement": 0.95,
        "max_quantized_error": 0.5,
    }
    assert exporter.limit_keys(options) == ("tflite", "tflite.int8")
    assert exporter.limit_keys(exporter.resolve_options({})) == ("tflite",)
    assert exporter.tolerance(options, classification=True).min_top1_agreement == 0.95
    assert exporter.tolerance(options, classification=False).max_abs_error == 0.5
    float32 = exporter.tolerance(exporter.resolve_options({}), classification=True)
    assert float32.max_abs_error == 1e-4 and float32.min_top1_agreement is None


def _image_plan(layer_type: str, shape: tuple, **params):
    registry = default_registry()
    graph = Graph()
    image = add(graph, registry, "keras.Input", "image", shape=shape)
    layer = add(graph, registry, layer_type, "enlarge", **params)
    link(graph, image, layer)
    pooled = add(graph, registry, "GlobalAveragePooling2D", "pooled")
    link(graph, layer, pooled)
    return build_plan(graph, registry, "enlarge")


@pytest.mark.parametrize(
    ("plan", "reason"),
    [
        # No builtin op: the converter refuses (TF Lite has bilinear and nearest resizing only).
        (
            lambda: _image_plan("Resizing", (5, 7, 3), height=8, width=6, interpolation="bicubic"),
            "TF Lite (float32) cannot convert node 'enlarge' (Resizing): "
            "'tf.ResizeBicubic' op is neither a custom op nor a flex op",
        ),
        # Keras cannot trace it with an open image size (before the converter runs).
        (
            lambda: _image_plan("UpSampling2D", (None, None, 3), interpolation="bilinear"),
            "TF Lite (float32) cannot convert node 'enlarge' (UpSampling2D): "
            "Using a symbolic `tf.Tensor` as a Python `bool` is not allowed",
        ),
    ],
    ids=["converter", "tracing"],
)
def test_conversion_failures_are_one_line_naming_the_node(plan, reason, tmp_path) -> None:
    with pytest.raises(ExportError) as caught:
        run_exporter_case("tflite", plan(), tmp_path / "out", samples=2)
    assert str(caught.value) == reason


def test_a_message_without_a_node_blames_the_model() -> None:
    error = conversion_error(ValueError("no ops"), plan_named("lstm_sequence"), "int8")
    assert str(error) == "TF Lite (int8) cannot convert the model: no ops"
