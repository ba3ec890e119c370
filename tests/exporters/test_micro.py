"""The microcontroller target, end to end: the real converter, the real TF Lite Micro interpreter
(``tflite-micro``), LiteRT's reference kernels and g++.

Every template TFLM can run exports, compiles and passes parity (against Keras, and TFLM against
LiteRT's reference kernels value for value); the one it cannot (the transformer's Embedding) is
refused by node name, up front and by the exporter; labels with quotes, backslashes, newlines and
non-ASCII text compile and read back; a model over ``max_arena_kb`` is refused with both figures;
and a trained project exports through the CLI with its flash and RAM on the screen.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.exporters import micro_runtime as tflm
from layerloom.exporters.base import ExportError
from layerloom.exporters.micro_sources import add_method, c_string
from layerloom.nodes.compile import build_plan
from layerloom.nodes.export_capabilities import default_capabilities
from layerloom.nodes.export_support import footprints, refusals
from layerloom.nodes.registry import default_registry
from layerloom.nodes.templates import load_template
from tests.exporters.harness import run_exporter_case
from tests.exporters.test_tflite import export_decided

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("tensorflow", "tflite_micro"))
        or shutil.which("g++") is None,
        reason="needs TensorFlow, tflite-micro and g++",
    ),
]
LAYERLOOM = Path(sys.executable).parent / "layerloom"
RUNNABLE = ("mlp_classifier", "small_cnn", "residual_cnn", "lstm_sequence", "dense_autoencoder")
LABELS = ['say "hi"', "back\\slash", "naïve 日本\nline", "??=", "x"]


def c_array(path: Path) -> bytes:
    body = path.read_text(encoding="utf-8").split("{", 1)[1].split("}", 1)[0]
    return bytes(int(value, 16) for value in re.findall(r"0x([0-9a-f]{2})", body))


@pytest.mark.parametrize("template", RUNNABLE)
def test_every_template_tflm_runs_exports_compiles_and_passes(template, tmp_path) -> None:
    out = tmp_path / "out"
    if template == "dense_autoencoder":  # regression: no class to be decided about
        result = run_exporter_case("micro", template, out, samples=8, representative=8)
    else:
        result = export_decided(template, out, {}, samples=12, target="micro")
    assert result.passed, result.parity["reason"]
    names = [Path(f).name for f in result.files if not f.endswith("labels.txt")]
    assert names == [
        "model.tflite",
        "model_data.h",
        "model_data.cc",
        "model_ops.h",
        "model_settings.h",
        "README.md",
        "input.json",
        "parity.json",
    ]
    flatbuffer = (out / "model.tflite").read_bytes()
    assert c_array(out / "model_data.cc") == flatbuffer  # byte for byte
    assert f"g_model_data_len = {len(flatbuffer)};" in (out / "model_data.cc").read_text()
    assert "alignas(16) const unsigned char g_model_data[]" in (out / "model_data.cc").read_text()
    details = result.details
    ops = tflm.operator_names(tflm.model_object(flatbuffer))
    assert details["ops"] == ops
    assert not {"SHAPE", "STRIDED_SLICE", "PACK"} & set(ops) or template == "lstm_sequence"
    header = (out / "model_ops.h").read_text()
    assert "MicroMutableOpResolver<kModelOpCount>" in header
    assert f"kModelOpCount = {len(ops)};" in header and header.count("resolver.Add") == len(ops)
    # The arena: measured, plus the stated margin; the parity interpreter ran with exactly it.
    settings = (out / "model_settings.h").read_text()
    assert f"kTensorArenaSize = {details['arena_bytes']};" in settings
    assert details["arena_bytes"] == details["arena_measured"] + details["arena_margin"]
    assert details["arena_margin"] >= max(1024, details["arena_measured"] // 10)
    assert tflm.probe(flatbuffer, details["arena_measured"], len(details["inputs"]))
    assert all(item["shape"][0] == 1 and item["dtype"] for item in details["inputs"])
    check = result.parity["checks"]["reference_kernels"]
    assert check["passed"] and check["runtime"].endswith("reference kernels")
    assert check["max_int8_steps"] <= check["allowed_int8_steps"] <= 2
    if not check["approximated_ops"]:
        assert check["differing_values"] == 0  # bit for bit
    assert result.runtime.startswith("TF Lite Micro")
    assert details["figures"]["Flash (model)"].endswith(f"({len(flatbuffer)} bytes)")
    # The figures the export dialog shows before exporting stay near what the export measures.
    registry = default_registry()
    flash, arena = (
        float(re.search(r"≈ ([\d.]+) KB", line).group(1)) * 1024
        for line in default_capabilities().estimate(
            "micro", footprints(load_template(template, registry), registry)
        )
    )
    assert 0.8 <= flash / len(flatbuffer) <= 1.25, (flash, len(flatbuffer))
    if template != "lstm_sequence":  # unrolled: its estimate says the arena may be much larger
        assert 0.25 <= arena / details["arena_measured"] <= 1.5, (arena, details["arena_measured"])
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "kTensorArenaSize" in readme and "round(x / scale) + zero_point" in readme
    assert "add_executable" in readme and "TensorFlowLite.h" in readme


def test_the_transformer_is_refused_by_node_name_up_front_and_by_the_exporter(tmp_path) -> None:
    registry = default_registry()
    graph = load_template("transformer_encoder", registry)
    found = refusals(graph, registry, ["micro"])
    assert [r.node_name for r in found] == ["embedding"]
    assert "cannot go to TF Lite Micro" in found[0].message
    with pytest.raises(ExportError, match=r"node 'embedding' \(Embedding\).*SELECT"):
        run_exporter_case("micro", build_plan(graph, registry, "t"), tmp_path / "o", samples=2)


def test_labels_with_quotes_backslashes_and_non_ascii_compile(tmp_path) -> None:
    # The export compiles model_settings.h, runs a program printing kLabels and compares the
    # bytes with these labels in UTF-8: it raises when they do not read back.
    plan = build_plan(load_template("mlp_classifier", default_registry()), default_registry(), "m")
    result = run_exporter_case(
        "micro", plan, tmp_path / "out", samples=4, representative=4, class_names=LABELS[:3]
    )
    settings = (tmp_path / "out" / "model_settings.h").read_text(encoding="ascii")
    assert r'"say \"hi\""' in settings and r'"back\\slash"' in settings
    assert result.details["compiled"]["flags"].startswith("-std=c++17")


def test_c_strings_and_resolver_names() -> None:
    assert c_string('a"b\\c?\n') == r'"a\"b\\c\?\012"'
    assert c_string("é") == r'"\303\251"'
    assert add_method("CONV_2D") == "AddConv2D"
    assert add_method("DEPTHWISE_CONV_2D") == "AddDepthwiseConv2D"
    assert add_method("FULLY_CONNECTED") == "AddFullyConnected"
    assert add_method("BATCH_MATMUL") == "AddBatchMatMul"
    assert add_method("UNIDIRECTIONAL_SEQUENCE_LSTM") == "AddUnidirectionalSequenceLSTM"


def test_a_model_over_its_limits_is_refused_with_both_figures(tmp_path) -> None:
    with pytest.raises(ExportError) as caught:
        run_exporter_case(
            "micro", "mlp_classifier", tmp_path / "out", {"max_arena_kb": 1}, representative=4
        )
    message = str(caught.value)
    assert re.search(r"needs [\d.]+ KB of flash for the model \(no limit set\)", message)
    assert re.search(r"and [\d.]+ KB of RAM for the tensor arena \(max_arena_kb=1\)", message)
    assert not (tmp_path / "out" / "model.tflite").exists()


def test_coverage_every_layer_tflm_takes_runs(tmp_path) -> None:
    # "coverage:micro": every catalog case the micro key accepts, one model. Random unnormalised
    # branches span wide ranges, so the Keras bound is waived; TFLM against the reference kernels
    # is not.
    result = run_exporter_case(
        "micro",
        "coverage:micro",
        tmp_path / "out",
        {"max_quantized_error": 1e6},
        samples=3,
        representative=8,
    )
    assert result.passed, result.parity["reason"]
    assert result.parity["checks"]["reference_kernels"]["passed"]


def test_a_trained_project_exports_through_the_cli(tmp_path) -> None:
    path = tmp_path / "tiny.loom"
    run = lambda *argv: subprocess.run(  # noqa: E731
        [str(LAYERLOOM), *argv], capture_output=True, text=True, timeout=300
    )
    assert run("new", str(path), "--template", "mlp_classifier").returncode == 0
    assert run("train", str(path), "--epochs", "1").returncode == 0
    done = run("export", str(path), "--target", "micro", "-o", str(tmp_path / "fw"))
    assert done.returncode == 0, done.stderr
    assert "Microcontroller (TF Lite Micro)" in done.stdout
    assert re.search(r"Flash \(model\): [\d.]+ KB", done.stdout)
    assert re.search(r"RAM \(tensor arena\): [\d.]+ KB", done.stdout)
    assert "parity passed in TF Lite Micro" in done.stdout
    too_small = run(
        "export",
        str(path),
        "--target",
        "micro",
        "-o",
        str(tmp_path / "x"),
        "--opt",
        "max_arena_kb=1",
    )
    assert too_small.returncode == 1 and "max_arena_kb=1" in too_small.stderr
