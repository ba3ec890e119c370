"""A regression model from features on very different scales to the phone: trained with an
adapted Normalization node, evaluated to error figures, exported to TF Lite with parity, and the
.tflite file alone, fed the raw features, predicts the target (the statistics travel inside it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from layerloom.app.workbench import open_project
from layerloom.app.workbench.evaluating import evaluate
from layerloom.app.workbench.exporting import export
from layerloom.backends.registry import create_backend
from layerloom.nodes.datasets import open_source
from tests.backends.test_adapt_layers import make_project, mlp, scaled_data, train

pytestmark = pytest.mark.keras


def test_a_regression_run_evaluates_and_exports_to_tflite_with_parity(
    tmp_path: Path, registry, keras_session
) -> None:
    from ai_edge_litert.interpreter import Interpreter

    data = scaled_data(tmp_path / "scaled.npz")
    backend = create_backend("inprocess", root=tmp_path / "jobs")
    path = make_project(tmp_path, "regression", mlp(registry, normalize=True), data)
    train(path, backend, epochs=12, learning_rate=3e-3, metrics="mae,mse,rmse")

    with open_project(path, readonly=True) as opened:
        result = evaluate(opened, backend=backend)
    assert result.task == "regression" and result.accuracy is None
    assert {"loss", "mae", "mse", "rmse"} <= set(result.metrics)
    assert result.r2 > 0.9 and 0 < result.mae < result.rmse
    assert result.rmse == pytest.approx(result.metrics["rmse"], rel=1e-3)
    assert len(result.pairs) == result.samples == 240

    with open_project(path) as opened:
        outcome = export(opened, "tflite", tmp_path / "phone")
    assert outcome.passed, outcome.error or outcome.parity
    assert outcome.run_id == 1

    # The model file alone, raw features in (no scaling outside it): the validation targets out.
    spec = {"kind": "npz", "path": str(data), "task": "regression"}
    validation = open_source(spec).split_indices()["validation"]
    arrays = np.load(data)
    x, y = arrays["x"][validation], arrays["y"][validation].reshape(-1)
    interpreter = Interpreter(model_path=str(tmp_path / "phone" / "model.tflite"))
    (source,) = interpreter.get_input_details()
    (sink,) = interpreter.get_output_details()
    interpreter.resize_tensor_input(source["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], x.astype(np.float32))
    interpreter.invoke()
    predicted = interpreter.get_tensor(sink["index"]).reshape(-1)
    assert np.abs(predicted - y).mean() == pytest.approx(result.mae, rel=1e-3)
