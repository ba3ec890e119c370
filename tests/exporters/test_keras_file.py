"""The Keras target: the trained model as a .keras file, reloaded with safe_mode for parity."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from layerloom.exporters.registry import default_exporters
from layerloom.exporters.run import ExportResult
from tests.exporters.harness import TEMPLATES, plan_named, run_exporter_case

pytestmark = pytest.mark.keras

PLANS = (*TEMPLATES, "multi_io", "coverage:keras")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, keras_session) -> Callable[[str], ExportResult]:
    results: dict[str, ExportResult] = {}

    def get(name: str) -> ExportResult:
        if name not in results:
            out = tmp_path_factory.mktemp(name.replace(":", "_"))
            classes = [f"class {i}" for i in range(10)] if name == "mlp_classifier" else None
            results[name] = run_exporter_case("keras", name, out, samples=4, class_names=classes)
        return results[name]

    return get


@pytest.mark.parametrize("name", PLANS)
def test_the_saved_model_reloads_safely_with_parity(exported, keras_session, name: str) -> None:
    result = exported(name)
    assert result.passed, result.parity
    assert result.parity["max_abs_error"] <= 1e-6
    assert result.runtime == f"Keras {keras_session.__version__} (load_model, safe_mode)"
    model_name = plan_named(name).name
    labels = ["labels.txt"] if name == "mlp_classifier" else []
    assert [Path(f).name for f in result.files] == [
        f"{model_name}.keras",
        "README.md",
        "input.json",
        *labels,
        "parity.json",
    ]
    with zipfile.ZipFile(result.files[0]) as archive:
        assert {"config.json", "metadata.json", "model.weights.h5"} <= set(archive.namelist())
        config = json.loads(archive.read("config.json"))
    assert config["class_name"] == "Functional"
    assert result.details["bytes"] == Path(result.files[0]).stat().st_size


def test_the_readme_says_how_to_load_it_and_what_it_takes(exported) -> None:
    result = exported("multi_io")
    readme = Path(result.files[1]).read_text(encoding="utf-8")
    assert 'keras.saving.load_model("multi_io.keras", safe_mode=True)' in readme
    assert "sources you trust" in readme
    assert "- `features`: float32, shape (batch, 8)" in readme
    assert "- `image`: float32, shape (batch, 8, 8, 1)" in readme
    assert "- `kind`: float32, shape (batch, 3)" in readme
    assert "- `value`: float32, shape (batch, 1)" in readme
    assert "## Input\n\n- Input features: float32, shape (batch, 8)" in readme


def test_the_readme_names_the_classes(exported) -> None:
    readme = Path(exported("mlp_classifier").files[1]).read_text(encoding="utf-8")
    assert "0: class 0, 1: class 1" in readme


def test_exporting_again_into_the_same_folder_overwrites(tmp_path, keras_session) -> None:
    first = run_exporter_case("keras", "small_cnn", tmp_path, samples=2)
    again = run_exporter_case("keras", "small_cnn", tmp_path, samples=2)
    assert first.passed and again.passed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "README.md",
        "input.json",
        "parity.json",
        "small_cnn.keras",
    ]


def test_registered_under_its_target() -> None:
    exporter = default_exporters()["keras"]
    assert (exporter.target, exporter.title) == ("keras", "Keras (.keras)")
    assert "check an artifact" in exporter.summary
    assert exporter.unavailable() is None
    assert exporter.resolve_options({}) == {"max_abs_error": 1e-4}
