"""The Python script target: generated Keras code that rebuilds the model, imported and run for
parity, and checked to rebuild the very same layers (names, classes, shapes, configs)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from layerloom.exporters.base import ExportError
from layerloom.exporters.python_script import (
    Bracket,
    _plain,
    generate_script,
    import_script,
    quote,
    render,
)
from layerloom.exporters.registry import default_exporters
from layerloom.exporters.run import ExportResult
from layerloom.nodes.plan import BuildPlan, PlanInput, PlanLayer
from tests.exporters.harness import TEMPLATES, model_for, plan_named, run_exporter_case

pytestmark = pytest.mark.keras

PLANS = (*TEMPLATES, "multi_io", "preprocessing", "coverage:python", "odd")
RUFF = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))


def _serialized(module: str, class_name: str, **config: object) -> dict[str, object]:
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def odd_plan() -> BuildPlan:
    """Names that are no identifiers or shadow something, MultiHeadAttention with all three ports,
    Keras objects inside settings, a wrapped layer, a setting that follows from another."""
    inputs = [
        PlanInput("query in", [5, 8], "float32"),
        PlanInput("class", [7, 6], "float32"),
        PlanInput("2nd", [7, 6], "float32"),
    ]
    dense = {
        "units": 3,
        "kernel_initializer": _serialized("keras.initializers", "HeNormal", seed=3),
        "kernel_regularizer": _serialized("keras.regularizers", "L2", l2=0.05),
        "bias_initializer": "ones",
    }
    lstm = _serialized("keras.layers", "LSTM", units=4, return_sequences=True, use_bias=True)
    layers = [
        PlanLayer(
            "attention",
            "MultiHeadAttention",
            "MultiHeadAttention",
            {"num_heads": 2, "key_dim": 4, "use_bias": True},
            "kwargs",
            [("query", "query in"), ("value", "class"), ("key", "2nd")],
        ),
        PlanLayer("input", "Dense", "Dense", dense, "single", [("input", "attention")]),
        PlanLayer("model", "Bidirectional", "Bidirectional", {"layer": lstm}, "single", [("input", "input")]),
        PlanLayer(
            "pool", "MaxPooling1D", "MaxPooling1D", {"pool_size": [3], "strides": None}, "single",
            [("input", "model")],
        ),
    ]  # fmt: skip
    return BuildPlan("odd", inputs, layers, ["pool", "input"])


def _plan(name: str) -> BuildPlan:
    return odd_plan() if name == "odd" else plan_named(name)


@pytest.fixture(scope="module")
def standalone(tmp_path_factory, keras_session) -> Iterator[tuple]:
    """mlp_classifier exported with a trained-weights file, its ``python model.py`` started in a
    child at once: the child's Keras import (~6 s) overlaps the other tests of this module."""
    folder = tmp_path_factory.mktemp("standalone")
    trained = folder / "trained.weights.h5"
    model_for(plan_named("mlp_classifier")).save_weights(trained)
    out = folder / "export"
    result = run_exporter_case("python", "mlp_classifier", out, samples=4, weights_file=trained)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}
    child = subprocess.Popen(
        [sys.executable, str(out / "model.py")],
        cwd=folder,  # not the script's folder: it finds its weights by its own path
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield out, trained, result, child
    if child.poll() is None:
        child.kill()
        child.communicate()


@pytest.fixture(scope="module")
def exported(tmp_path_factory, standalone) -> Callable[[str], ExportResult]:
    """Each plan exported once (its model is the harness' shared one), checked right then against
    the model it came from, while that model is still in the harness' cache."""
    results: dict[str, ExportResult] = {}

    def get(name: str) -> ExportResult:
        if name not in results:
            plan = _plan(name)
            out = tmp_path_factory.mktemp(name.replace(":", "_"))
            results[name] = result = run_exporter_case("python", plan, out, samples=4)
            if result.passed:
                _assert_same_model(model_for(plan), Path(result.files[0]))
        return results[name]

    return get


def _assert_same_model(original, script: Path) -> None:
    rebuilt = import_script(script).build_model()
    assert rebuilt.name == original.name
    assert len(rebuilt.layers) == len(original.layers)
    for mine, theirs in zip(rebuilt.layers, original.layers, strict=True):
        assert (mine.name, type(mine).__name__) == (theirs.name, type(theirs).__name__)
        assert mine.output.shape == theirs.output.shape, mine.name
        assert mine.output.dtype == theirs.output.dtype, mine.name
        # Tuples stay tuples; only the generated names of wrapped layers may differ.
        assert _plain(mine.get_config(), strict=True) == _plain(theirs.get_config(), strict=True)
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in original.weights]


@pytest.mark.parametrize("name", PLANS)
def test_the_generated_script_rebuilds_the_model_with_parity(exported, name: str) -> None:
    result = exported(name)
    assert result.passed, result.parity
    assert result.parity["max_abs_error"] <= 1e-6
    assert result.runtime.startswith("generated Keras script (Keras 3.")
    assert [Path(f).name for f in result.files if not f.endswith("labels.txt")] == [
        "model.py",
        "model.weights.h5",
        "README.md",
        "input.json",
        "parity.json",
    ]
    source = Path(result.files[0]).read_text(encoding="utf-8")
    compile(source, "model.py", "exec")
    tree = ast.parse(source)
    imported = {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    # Classes outside keras.layers (ConvNeXt's LayerScale) are imported by name from their module.
    outside = {s.class_name.rpartition(".")[2] for s in _plan(name).layers if "." in s.class_name}
    assert imported == {"keras", "Path"} | outside and imported <= used
    assert max(len(line) for line in source.splitlines()) <= 100
    assert result.details["layers"] == len(_plan(name).layers)


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
@pytest.mark.parametrize("name", PLANS)
def test_the_generated_script_is_ruff_clean_and_formatted(exported, name: str) -> None:
    script = exported(name).files[0]
    rules = ["--isolated", "--line-length", "100"]
    lint = [RUFF, "check", *rules, "--select", "E,F,W,I,B,UP", script]
    checked = subprocess.run(lint, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout
    formatted = subprocess.run(
        [RUFF, "format", *rules, "--diff", script], capture_output=True, text=True, timeout=60
    )
    assert formatted.returncode == 0, formatted.stdout


def test_the_script_is_short_and_readable(exported) -> None:
    source = Path(exported("residual_cnn").files[0]).read_text(encoding="utf-8")
    assert "def build_model() -> keras.Model:" in source
    assert 'image = keras.Input(shape=(32, 32, 3), dtype="float32", name="image")' in source
    assert 'skip_add = keras.layers.Add(name="skip_add")([block_bn_2, stem_relu])' in source
    assert "kernel_size=(3, 3)," in source and 'padding="same",' in source
    for default in (
        "use_bias=True",
        'activation="linear"',
        "strides=(1, 1)",
        "trainable",
        "dtype={",
    ):
        assert default not in source, default
    assert "initializer" not in source
    # Its BatchNormalizations set momentum 0.9, which is written; Keras' default 0.99 never is.
    assert source.count("momentum=0.9,") == 3 and "momentum=0.99" not in source


def test_coverage_call_styles_and_wrapped_layers(exported) -> None:
    source = Path(exported("coverage:python").files[0]).read_text(encoding="utf-8")
    assert "(query=n36_multiheadattention_in0, value=n36_multiheadattention_in1)" in source
    assert "layer=keras.layers.SimpleRNN(units=4, dropout=0.1)," in source
    assert "backward_layer" not in source  # Keras derives it from the forward layer
    assert 'keras.Input(shape=(12,), dtype="int32", name="n21_embedding_in0")' in source
    assert "([n10_concatenate_in0, n10_concatenate_in1, n10_concatenate_in2])" in source
    assert "factor=0.2," in source  # the setting as given, not Keras' normalised (0, 0.2)
    # a class outside keras.layers: imported from its module, called by its short name
    assert "\nfrom keras.src.applications.convnext import LayerScale\n" in source
    assert " = LayerScale(" in source and "keras.layers.LayerScale" not in source


def test_odd_names_become_identifiers_and_objects_constructor_calls(exported) -> None:
    source = Path(exported("odd").files[0]).read_text(encoding="utf-8")
    assert 'query_in = keras.Input(shape=(5, 8), dtype="float32", name="query in")' in source
    assert 'n_2nd = keras.Input(shape=(7, 6), dtype="float32", name="2nd")' in source
    assert ")(query=query_in, value=class_, key=n_2nd)" in source
    assert "kernel_initializer=keras.initializers.HeNormal(seed=3)," in source
    assert "kernel_regularizer=keras.regularizers.L2(l2=0.05)," in source
    assert 'bias_initializer="ones",' in source
    assert "model_ = keras.layers.Bidirectional(" in source
    assert "layer=keras.layers.LSTM(units=4, return_sequences=True)" in source
    assert 'keras.layers.MaxPooling1D(pool_size=(3,), name="pool")(model_)' in source
    assert "outputs=[pool, input_]" in source


def test_the_script_runs_on_its_own_with_the_shipped_weights(standalone) -> None:
    out, trained, result, child = standalone
    assert result.passed, result.parity
    assert (out / "model.weights.h5").read_bytes() == trained.read_bytes()
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 0, stderr[-2000:]
    assert "Loaded the trained weights from model.weights.h5" in stdout
    assert "Total params" in stdout and "mlp_classifier" in stdout
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "python model.py" in readme and "build_model()" in readme
    assert "## Input\n\n- Input features: float32, shape (batch, 20)" in readme


def test_unknown_layer_classes_are_refused_by_name() -> None:
    plan = BuildPlan(
        "bad",
        [PlanInput("x", [4], "float32")],
        [PlanLayer("odd", "Nope", "NoSuchLayer", {}, "single", [("input", "x")])],
        ["odd"],
    )
    with pytest.raises(ExportError, match="node 'odd'.*NoSuchLayer"):
        generate_script(plan)


def test_the_printer_breaks_long_calls_as_ruff_does() -> None:
    args = tuple((f"argument_{i}=", str(i)) for i in range(12))
    assert render(Bracket("f(", args[:2], ")"), 4, 4, 0) == "f(argument_0=0, argument_1=1)"
    hugged = render(Bracket("f(", args[:6], ")"), 4, 90, 0)
    assert hugged.splitlines()[1].startswith("        argument_0=0, argument_1=1")
    exploded = render(Bracket("f(", args, ")"), 4, 4, 0, explode=True).splitlines()
    assert exploded[1] == "        argument_0=0," and exploded[-1] == "    )"
    assert quote('say "hi"') == "'say \"hi\"'" and quote("it's") == '"it\'s"'


def test_registered_under_its_target() -> None:
    exporter = default_exporters()["python"]
    assert (exporter.target, exporter.title) == ("python", "Python script")
    assert exporter.unavailable() is None
