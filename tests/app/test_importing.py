"""Import end to end: own models (several inputs and outputs, a shared layer, a nested model), a
Lambda that must never run, a legacy .h5 file, the imported run as the project's default weights,
and the CLI's report and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.app.workbench.importing import import_model
from layerloom.app.workbench.run_choice import choose_run
from layerloom.backends.keras_import import convert_loaded, load_source, parity, rebuild
from layerloom.nodes.analysis import Analysis
from layerloom.nodes.compile import build_plan
from layerloom.nodes.errors import CompileError

pytestmark = pytest.mark.keras


def _multi_io_model():
    import keras

    a = keras.Input((8,), name="numbers")
    b = keras.Input((4,), name="extra")
    shared = keras.layers.Dense(6, activation="relu", name="shared")
    widened = keras.layers.Dense(8, name="widen")(b)
    inner = keras.Sequential(
        [keras.Input((12,)), keras.layers.Dense(5, name="inner_dense"), keras.layers.ReLU()],
        name="block",
    )
    joined = keras.layers.Concatenate(name="join")([shared(a), shared(widened)])
    head = inner(joined)
    out1 = keras.layers.Dense(3, activation="softmax", name="label")(head)
    out2 = keras.layers.Dense(1, name="score")(keras.layers.Add(name="sum")([head, head]))
    return keras.Model([a, b], [out1, out2], name="two_heads")


def test_multi_io_shared_and_nested_round_trip(keras_session, tmp_path) -> None:
    model = _multi_io_model()
    model.save(tmp_path / "two.keras")
    loaded = load_source(str(tmp_path / "two.keras"))
    converted = convert_loaded(loaded)
    assert converted.placeholders == []
    names = {node.name for node in converted.graph.nodes()}
    assert {"numbers", "extra", "shared", "inner_dense", "label", "score"} <= names
    assert any("shared" in note and "no longer tied" in note for note in converted.notes)
    assert converted.outputs == ["label", "score"]
    rebuilt = rebuild(loaded, converted)
    # The shared Dense(8 -> 6) is one node per call: its 54 weights once more.
    assert rebuilt.count_params() == model.count_params() + 54
    assert parity(loaded.model, rebuilt, converted) <= 1e-5
    # Laid out top to bottom: every input above the nodes it feeds.
    graph = converted.graph
    for edge in graph.edges():
        assert graph.node(edge.src).pos[1] < graph.node(edge.dst).pos[1]


def test_lambda_is_a_placeholder_and_never_runs(keras_session, tmp_path) -> None:
    import keras

    marker = tmp_path / "payload-ran"

    def payload(t):
        marker.write_text("ran")  # what a hostile file would do when its code is run
        return t * 2

    x = keras.Input((4,), name="x")
    y = keras.layers.Lambda(payload, name="hostile")(keras.layers.Dense(4, name="d1")(x))
    keras.Model(x, keras.layers.Dense(2, name="d2")(y)).save(tmp_path / "lam.keras")
    marker.unlink()  # building the model above ran it once; the import must not

    report = import_model(tmp_path / "lam.keras", tmp_path / "lam.loom")
    assert not marker.exists()
    assert [(node, cls) for node, cls, _ in report.placeholders] == [("hostile", "Lambda")]
    assert report.run_id is None
    ((_, _, blocks),) = report.placeholders
    assert blocks.startswith("training and export: a Lambda runs Python code")
    assert "  hostile (Lambda) blocks training and export: a Lambda" in "\n".join(report.lines())
    with open_project(tmp_path / "lam.loom", readonly=True) as opened:
        analysis = Analysis(opened.graph, opened.registry)
        assert analysis.problems() == []  # the graph shows and validates
        assert analysis.shape(opened.graph.by_name("d2").id) == (2,)
        analysis.close()
        with pytest.raises(
            CompileError, match="'hostile' is a placeholder for the imported Lambda"
        ):
            build_plan(opened.graph, opened.registry)


def test_legacy_h5_round_trip(keras_session, tmp_path) -> None:
    import keras

    x = keras.Input((6, 6, 2), name="image")
    y = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(x)
    y = keras.layers.BatchNormalization(name="bn")(y)
    y = keras.layers.GlobalAveragePooling2D(name="gap")(y)
    # A nested model keeps its layers' weights under its own group in a legacy file.
    head = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(5, name="inner"), keras.layers.ReLU(name="act")],
        name="head",
    )
    model = keras.Model(x, keras.layers.Dense(3, name="out")(head(y)))
    model.save(tmp_path / "old.h5")
    loaded = load_source(str(tmp_path / "old.h5"))
    converted = convert_loaded(loaded)
    assert converted.placeholders == []
    rebuilt = rebuild(loaded, converted)
    assert rebuilt.count_params() == model.count_params()
    batch = np.random.default_rng(1).standard_normal((2, 6, 6, 2)).astype("float32")
    assert np.max(np.abs(rebuilt(batch) - model(batch))) <= 1e-5


def test_cli_import_report_runs_and_default_weights(keras_session, tmp_path, capsys) -> None:
    import keras

    x = keras.Input((5,), name="features")
    y = keras.layers.Dense(7, activation="relu", name="hidden")(x)
    keras.Model(x, keras.layers.Dense(2, activation="softmax", name="classes")(y)).save(
        tmp_path / "small.keras"
    )
    project = tmp_path / "ünïcode.loom"
    assert main(["import", str(tmp_path / "small.keras"), "-o", str(project), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["nodes"], report["edges"], report["params"]) == (3, 2, 58)
    assert report["placeholders"] == [] and report["max_abs_error"] == 0
    run_id = report["run_id"]

    assert main(["runs", str(project)]) == 0
    assert f"run {run_id}  imported" in capsys.readouterr().out
    with open_project(project, readonly=True) as opened:
        chosen = choose_run(opened)
        assert chosen.run_id == run_id and "imported weights" in chosen.reason

    before = project.read_bytes()
    assert main(["import", str(tmp_path / "small.keras"), "-o", str(project)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert project.read_bytes() == before
    assert main(["import", "nothing.keras", "-o", str(tmp_path / "x.loom")]) == 1
    assert main(["import", "m.keras", "--from", "keras.applications.VGG16", "-o", "x.loom"]) == 2
    assert (
        main(
            ["import", "--from", "keras.applications.VGG16", "--input-shape", "a,b", "-o", "x.loom"]
        )
        == 2
    )
    assert not Path("x.loom").exists()


def test_application_with_a_weights_file_becomes_the_starting_point(keras_session, tmp_path):
    import keras

    source = keras.applications.MobileNetV3Small(
        weights=None, input_shape=(32, 32, 3), classes=4, include_preprocessing=True
    )
    source.save_weights(tmp_path / "mine.weights.h5")
    report = import_model(
        "keras.applications.MobileNetV3Small",
        tmp_path / "mn.loom",
        input_shape=(32, 32, 3),
        classes=4,
        weights=tmp_path / "mine.weights.h5",
    )
    assert report.placeholders == [] and report.run_id is not None
    assert report.params == source.count_params() and report.max_abs_error <= 1e-5


def test_an_imported_checkpoint_restores_without_optimizer_state(keras_session, tmp_path):
    """`train --resume` of an imported run: its weights, and a fresh optimizer at step 0."""
    import keras

    from layerloom.backends.checkpoints import restore_checkpoint
    from layerloom.backends.protocol import checkpoint_files

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    weights_file, optimizer_file = checkpoint_files(tmp_path / "imported")
    model.save_weights(str(weights_file))
    np.savez(optimizer_file)
    again = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    again.compile(optimizer="adam", loss="mse")
    assert restore_checkpoint(again, tmp_path / "imported") == 0
    assert np.array_equal(again.get_weights()[0], model.get_weights()[0])
