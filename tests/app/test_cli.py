"""The headless CLI as a user drives it: commands, exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.nodes.edits import SetParams

LAYERLOOM = Path(sys.executable).parent / "layerloom"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cnn_project(tmp_path, capsys) -> Path:
    path = tmp_path / "cnn.loom"
    code, out, _ = run(capsys, "new", str(path), "--template", "small_cnn")
    assert code == 0 and "small_cnn" in out
    return path


def test_new_then_info_json(cnn_project, capsys) -> None:
    code, out, _ = run(capsys, "info", str(cnn_project), "--json")
    info = json.loads(out)
    assert code == 0
    assert info["problems"] == []
    assert info["total_params"] == sum(n["param_count"] for n in info["nodes"]) > 0
    by_name = {n["name"]: n for n in info["nodes"]}
    assert by_name["classes"]["shape"] == [10]
    assert by_name["conv_1"]["shape"] == [26, 26, 16]


def test_info_human_readable_lists_shapes_and_totals(cnn_project, capsys) -> None:
    code, out, _ = run(capsys, "info", str(cnn_project))
    assert code == 0
    assert "conv_1" in out and "(26, 26, 16)" in out and "no problems" in out


def test_validate_lists_every_problem_and_exits_1(cnn_project, capsys) -> None:
    with open_project(cnn_project) as opened:
        graph = opened.graph
        conv = graph.by_name("conv_1")
        dense = graph.by_name("classes")
        SetParams(conv.id, {**conv.params, "kernel_size": (40, 40)}).apply(graph)
        SetParams(dense.id, {**dense.params, "units": -3}).apply(graph)
        opened.save("break it")
    code, out, _ = run(capsys, "validate", str(cnn_project))
    assert code == 1
    assert "conv_1:" in out and "classes:" in out and "units must be >= 1" in out
    code, out, _ = run(capsys, "validate", str(cnn_project), "--json")
    report = json.loads(out)
    assert code == 1 and report["valid"] is False
    assert {p["node"] for p in report["problems"]} == {"conv_1", "classes"}


def test_validate_passes_for_a_template(cnn_project, capsys) -> None:
    code, out, _ = run(capsys, "validate", str(cnn_project))
    assert code == 0 and "valid" in out


def test_templates_prints_name_then_description(capsys) -> None:
    code, out, _ = run(capsys, "templates")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) >= 6
    names = [line.split()[0] for line in lines]
    assert "small_cnn" in names and "transformer_encoder" in names
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_layers_lists_the_registry(capsys) -> None:
    code, out, _ = run(capsys, "layers")
    assert code == 0 and "Conv2D" in out and "MultiHeadAttention" in out
    code, out, _ = run(capsys, "layers", "--json", "conv")
    assert {d["type"] for d in json.loads(out)} >= {"keras.layers.Conv2D", "keras.layers.Conv1D"}


@pytest.mark.keras
def test_summary_prints_keras_own_count(cnn_project, capsys, keras_session) -> None:
    code, out, _ = run(capsys, "summary", str(cnn_project))
    _, info, _ = run(capsys, "info", str(cnn_project), "--json")
    total = json.loads(info)["total_params"]
    assert code == 0
    assert f"Keras parameter count: {total:,}" in out
    assert "Total params" in out  # Keras' own summary table


def test_missing_file_is_one_line_error(tmp_path, capsys) -> None:
    code, out, err = run(capsys, "info", str(tmp_path / "nope.loom"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "nope.loom" in err and "Traceback" not in err


def test_unknown_template_creates_no_file(tmp_path, capsys) -> None:
    path = tmp_path / "x.loom"
    code, _, err = run(capsys, "new", str(path), "--template", "does_not_exist")
    assert code == 1 and "unknown template 'does_not_exist'" in err and "small_cnn" in err
    assert not path.exists()


def test_new_refuses_to_overwrite(cnn_project, capsys) -> None:
    before = cnn_project.read_bytes()
    code, _, err = run(capsys, "new", str(cnn_project))
    assert code == 1 and "exists" in err
    assert cnn_project.read_bytes() == before


def test_console_script_errors_are_one_line_and_debug_shows_traceback(tmp_path) -> None:
    bad = tmp_path / "notes.loom"
    bad.write_text("not a project")
    plain = subprocess.run([LAYERLOOM, "info", bad], capture_output=True, text=True, timeout=60)
    assert plain.returncode == 1
    assert plain.stderr.strip().count("\n") == 0 and "Traceback" not in plain.stderr
    debug = subprocess.run(
        [LAYERLOOM, "--debug", "info", bad], capture_output=True, text=True, timeout=60
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr
