"""The TF Serving target: a versioned SavedModel with a named signature, checked in TensorFlow and
by ``saved_model_cli``, plus the config, request and Docker files next to it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from layerloom.exporters.base import ExportError
from layerloom.exporters.registry import default_exporters
from layerloom.exporters.run import keras_outputs
from tests.exporters.harness import TEMPLATES, model_for, plan_named, run_exporter_case

pytestmark = pytest.mark.keras


def _passed(result) -> None:
    assert result.passed, result.parity["reason"]
    assert result.runtime.startswith("TensorFlow ") and "serving_default" in result.runtime


@pytest.mark.parametrize("name", [*TEMPLATES, "preprocessing", "coverage:serving"])
def test_graph_exports_with_parity(name, tmp_path, keras_session) -> None:
    result = run_exporter_case("serving", name, tmp_path, samples=4)
    _passed(result)
    plan = plan_named(name)
    version_dir = tmp_path / plan.name / "1"
    assert result.files[0] == str(version_dir / "saved_model.pb")
    assert (version_dir / "variables" / "variables.index").is_file()
    shown = result.details["saved_model_cli"]
    for item in plan.inputs:
        assert f"inputs['{item.name}']" in shown
    for output in plan.outputs:
        assert f"outputs['{output}']" in shown


@pytest.fixture(scope="module")
def multi_io_exports(tmp_path_factory, keras_session):
    """multi_io exported twice into one folder: versions 1 and 2 side by side."""
    folder = tmp_path_factory.mktemp("serving_multi_io")
    first = run_exporter_case("serving", "multi_io", folder, samples=4)
    second = run_exporter_case("serving", "multi_io", folder, samples=4)
    return folder, first, second


def test_signature_is_named_after_the_graph_with_an_open_batch(multi_io_exports) -> None:
    _, first, _ = multi_io_exports
    _passed(first)
    signature = first.details["signature"]
    assert signature["inputs"] == {
        "features": {"shape": [None, 8], "dtype": "float32"},
        "image": {"shape": [None, 8, 8, 1], "dtype": "float32"},
    }
    assert list(signature["outputs"]) == ["kind", "value"]
    assert signature["outputs"]["kind"]["shape"] == [None, 3]
    shown = first.details["saved_model_cli"]
    assert "inputs['features']" in shown and "shape: (-1, 8, 8, 1)" in shown
    assert "outputs['kind']" in shown and "outputs['value']" in shown


def test_second_export_into_the_same_folder_is_version_2(multi_io_exports) -> None:
    folder, first, second = multi_io_exports
    _passed(second)
    assert (first.details["version"], second.details["version"]) == (1, 2)
    assert (folder / "multi_io" / "1" / "saved_model.pb").is_file()
    assert (folder / "multi_io" / "2" / "saved_model.pb").is_file()


def test_models_config_names_the_model_and_its_base_path(multi_io_exports) -> None:
    folder, _, _ = multi_io_exports
    config = (folder / "models.config").read_text()
    assert re.search(r'config\s*{\s*name:\s*"multi_io"\s*base_path:\s*"/models/multi_io"', config)
    assert 'model_platform: "tensorflow"' in config
    assert config.count("{") == config.count("}")
    compose = (folder / "compose.yaml").read_text()
    assert "./multi_io:/models/multi_io" in compose and "MODEL_NAME: multi_io" in compose
    assert "COPY multi_io /models/multi_io" in (folder / "Dockerfile").read_text()


def test_readme_says_how_to_run_and_ask(multi_io_exports) -> None:
    folder, _, _ = multi_io_exports
    readme = (folder / "README.md").read_text()
    curl = "curl -d @request.json -X POST http://localhost:8501/v1/models/multi_io:predict"
    assert curl in readme
    assert "-e MODEL_NAME=multi_io tensorflow/serving" in readme
    assert "| `image` | input | (batch, 8, 8, 1) | float32 |" in readme
    assert "## Input\n\n- Input features: float32, shape (batch, 8)" in readme
    assert "not installable" in readme


def test_request_json_and_its_expected_answer_hold_for_the_saved_model(multi_io_exports) -> None:
    """request.json is one example in the row form; the README's expected answer is what the
    saved signature answers to it (the example is the parity batch's first: real data when the
    project has some, tests/app/test_export_input.py)."""
    import tensorflow as tf

    folder, _, second = multi_io_exports
    body = json.loads((folder / "request.json").read_text())
    assert set(body) == {"instances"} and len(body["instances"]) == 1
    (instance,) = body["instances"]
    assert set(instance) == {"features", "image"}
    inputs = {k: np.asarray([v], dtype=np.float32) for k, v in instance.items()}
    assert inputs["image"].shape == (1, 8, 8, 1)
    plan = plan_named("multi_io")
    # The numbers are the parity batch's own (shortest float32 form), not rounded copies.
    from layerloom.exporters.samples import synthetic

    np.testing.assert_array_equal(inputs["features"], synthetic(plan, 4)["features"][:1])
    signature = tf.saved_model.load(second.details["version_dir"]).signatures["serving_default"]
    got = signature(**{k: tf.constant(v) for k, v in inputs.items()})
    readme = (folder / "README.md").read_text()
    shown = re.search(r"The expected answer.*?```json\n(.*?)\n```", readme, re.S)
    assert shown, readme
    expected = json.loads(shown.group(1))
    assert expected == json.loads((folder / "expected_response.json").read_text())
    (prediction,) = expected["predictions"]
    for name in plan.outputs:
        np.testing.assert_allclose(got[name].numpy()[0], prediction[name], atol=1e-6)
    want = keras_outputs(model_for(plan), inputs)
    for name, values in zip(plan.outputs, want, strict=True):
        np.testing.assert_allclose(got[name].numpy(), values, atol=1e-6)


def test_explicit_version_and_model_name(tmp_path, keras_session) -> None:
    options = {"model_name": "clf", "version": "7"}
    result = run_exporter_case("serving", "mlp_classifier", tmp_path, options, samples=2)
    _passed(result)
    assert (tmp_path / "clf" / "7" / "saved_model.pb").is_file()
    assert "/v1/models/clf:predict" in (tmp_path / "README.md").read_text()
    with pytest.raises(ExportError, match="version 7 of clf already exists"):
        run_exporter_case("serving", "mlp_classifier", tmp_path, options, samples=2)


def test_options_are_checked() -> None:
    exporter = default_exporters()["serving"]
    assert exporter.resolve_options() == {"model_name": "", "version": 0, "max_abs_error": 1e-4}
    with pytest.raises(ExportError, match="model_name"):
        exporter.resolve_options({"model_name": "my model/v1"})
    with pytest.raises(ExportError, match="version"):
        exporter.resolve_options({"version": "-1"})
    assert exporter.title == "Server (TF Serving)" and exporter.unavailable() is None


def test_the_saved_model_cli_command_shows_the_named_signature(multi_io_exports) -> None:
    """The export checks with saved_model_cli's code in-process; the real command agrees."""
    import subprocess

    from layerloom.exporters.serving import SHOW_ARGS, cli_command

    folder, first, _ = multi_io_exports
    done = subprocess.run(
        [*cli_command(), *SHOW_ARGS, "--dir", first.details["version_dir"]],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    for name in ("inputs['features']", "inputs['image']", "outputs['kind']", "outputs['value']"):
        assert name in done.stdout
    assert first.details["saved_model_cli"] == done.stdout.strip()
