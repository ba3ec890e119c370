"""The ONNX target: tf2onnx's model, named after the graph, checked by onnx.checker and run in
onnxruntime against Keras."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from layerloom.exporters.base import ExportError
from layerloom.exporters.registry import default_exporters
from tests.exporters.harness import TEMPLATES, plan_named, run_exporter_case

pytestmark = pytest.mark.keras


def _load(path):
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    return model


def _opset(model) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


@pytest.mark.parametrize("name", [*TEMPLATES, "preprocessing", "coverage:onnx"])
def test_graph_exports_with_parity(name, tmp_path, keras_session) -> None:
    result = run_exporter_case("onnx", name, tmp_path, samples=4)
    assert result.passed, result.parity["reason"]
    assert result.runtime.startswith("onnxruntime ") and result.runtime.endswith("(opset 17)")
    model = _load(tmp_path / "model.onnx")
    assert result.files[0] == str(tmp_path / "model.onnx")
    plan = plan_named(name)
    # The graph's names and order: tf2onnx would sort them by name.
    assert [i.name for i in model.graph.input] == [i.name for i in plan.inputs]
    assert [o.name for o in model.graph.output] == plan.outputs
    assert _opset(model) == 17


def test_multi_io_names_batch_readme_and_labels(tmp_path, keras_session) -> None:
    import onnxruntime as ort

    classes = ["cat", "dog", "eel"]
    result = run_exporter_case("onnx", "multi_io", tmp_path, samples=4, class_names=classes)
    assert result.passed, result.parity["reason"]
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    inputs = {i.name: i.shape for i in session.get_inputs()}
    assert inputs == {"features": ["batch", 8], "image": ["batch", 8, 8, 1]}
    assert {o.name: o.shape for o in session.get_outputs()} == {
        "kind": ["batch", 3],
        "value": ["batch", 1],
    }
    # An open batch: any number of examples runs.
    rng = np.random.default_rng(3)
    feed = {
        "features": rng.standard_normal((5, 8)).astype(np.float32),
        "image": rng.standard_normal((5, 8, 8, 1)).astype(np.float32),
    }
    kind, value = session.run(["kind", "value"], feed)
    assert kind.shape == (5, 3) and value.shape == (5, 1)
    assert (tmp_path / "labels.txt").read_text().splitlines() == classes
    readme = (tmp_path / "README.md").read_text()
    assert "opset 17" in readme and "ort.InferenceSession" in readme
    assert '"image": np.zeros((1, 8, 8, 1), dtype=np.float32)' in readme
    assert "| `kind` | output | (batch, 3) | tensor(float) |" in readme
    assert result.details["inputs"]["image"]["shape"] == [None, 8, 8, 1]


def test_opset_option_is_respected(tmp_path, keras_session) -> None:
    result = run_exporter_case("onnx", "small_cnn", tmp_path, {"opset": "13"}, samples=4)
    assert result.passed, result.parity["reason"]
    assert _opset(_load(tmp_path / "model.onnx")) == 13
    assert result.runtime.endswith("(opset 13)") and result.details["opset"] == 13


def test_opset_19_and_later_is_refused() -> None:
    exporter = default_exporters()["onnx"]
    assert exporter.resolve_options() == {"opset": 17, "max_abs_error": 1e-4}
    for bad in ("19", 12):
        with pytest.raises(ExportError, match="opset"):
            exporter.resolve_options({"opset": bad})
    assert exporter.title == "ONNX" and exporter.unavailable() is None


def test_tf2onnx_stays_quiet(tmp_path, keras_session, capfd, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    result = run_exporter_case("onnx", "mlp_classifier", tmp_path, samples=2)
    assert result.passed
    captured = capfd.readouterr()
    assert "tf2onnx" not in captured.out + captured.err
    assert not [r for r in caplog.records if r.name.startswith("tf2onnx")]


def test_unconvertible_layer_is_one_line_naming_the_node(tmp_path, keras_session) -> None:
    """Lanczos resizing becomes TF's ScaleAndTranslate, which tf2onnx cannot convert."""
    from layerloom.nodes.compile import build_plan
    from layerloom.nodes.graph import Graph
    from layerloom.nodes.registry import default_registry
    from tests.nodes.builders import add, link

    registry = default_registry()
    graph = Graph()
    image = add(graph, registry, "keras.Input", "image", shape=(4, 4, 1))
    resize = add(graph, registry, "Resizing", "smooth", height=6, width=6, interpolation="lanczos3")
    link(graph, image, resize)
    plan = build_plan(graph, registry, "lanczos")
    with pytest.raises(ExportError) as caught:
        run_exporter_case("onnx", plan, tmp_path, samples=2)
    message = str(caught.value)
    assert "\n" not in message and "node 'smooth' (Resizing)" in message
    assert "ScaleAndTranslate" in message


def test_an_optimizer_pass_that_raises_is_skipped_like_tf2onnx_does(
    tmp_path, keras_session, monkeypatch
) -> None:
    """Layerloom converts without tf2onnx's per-pass safety copies first; a pass with a bug sends
    it back to tf2onnx's default route, which skips that pass, and the export still passes."""
    import os

    from tf2onnx import optimizer

    from layerloom.exporters.onnx import CATCH_ERRORS_VARIABLE

    calls = []

    class BrokenPass:  # a tf2onnx optimizer pass with a bug
        graph_been_opt = False

        def optimize(self, graph, iteration):
            calls.append(iteration)
            raise RuntimeError("a bug in an optimizer pass")

    monkeypatch.setitem(optimizer._optimizers, "broken", BrokenPass)
    result = run_exporter_case("onnx", "mlp_classifier", tmp_path, samples=4)
    assert result.passed, result.parity["reason"]
    # Raised on the fast route's first pass; the default route began again and skipped it.
    assert calls[:2] == [0, 0]
    assert CATCH_ERRORS_VARIABLE not in os.environ  # the switch is put back
