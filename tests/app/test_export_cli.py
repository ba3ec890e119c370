"""Exporting from the command line, end to end: a trained project, real export workers.

`layerloom export P.loom --target T -o DIR` writes the artifact, checks parity in the target's
runtime, records the export in the project file and exits 0; a missed tolerance exits 2; a
converter crash, missing weights, a refused node or an unwritable folder are one clear line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project

LAYERLOOM = Path(sys.executable).parent / "layerloom"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """mlp_classifier trained for one epoch on its sample (a real run with real checkpoints).

    Its hidden_2 layer uses the exponential activation, which TF.js lacks: every target but TF.js
    takes this model."""
    path = tmp_path_factory.mktemp("export") / "iris_like.loom"
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    with open_project(path) as opened:
        node = opened.graph.by_name("hidden_2")
        opened.graph.set_params(node.id, {**node.params, "activation": "exponential"})
        opened.save("exponential hidden layer")
    result = subprocess.run(
        [str(LAYERLOOM), "train", str(path), "--epochs", "1"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return path


def exports_table(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT run_id, target, status, path, parity FROM exports").fetchall()


def test_export_json_lists_files_and_parity_and_records_the_export(
    trained, tmp_path, capsys
) -> None:
    out = tmp_path / "keras"
    code, stdout, _ = run(
        capsys, "export", str(trained), "--target", "keras", "-o", str(out), "--json"
    )
    assert code == 0
    report = json.loads(stdout)
    assert report["status"] == "passed" and report["run"] == 1
    assert report["parity"]["passed"] is True and report["parity"]["max_abs_error"] <= 1e-4
    assert report["sample_source"] == "validation"  # the project's own held-out data
    files = [Path(f) for f in report["files"]]
    assert all(f.exists() and f.is_relative_to(out) for f in files)
    assert any(f.suffix == ".keras" for f in files)
    assert json.loads((out / "parity.json").read_text())["passed"] is True
    recorded = exports_table(trained)
    assert recorded[-1][:4] == (1, "keras", "passed", str(out.resolve()))
    assert json.loads(recorded[-1][4])["files"] == report["files"]
    code, stdout, _ = run(capsys, "exports", str(trained))
    assert code == 0 and "keras" in stdout and "passed" in stdout


def test_a_missed_tolerance_writes_the_files_and_exits_2(trained, tmp_path, capsys) -> None:
    out = tmp_path / "strict"
    code, stdout, err = run(
        capsys,
        "export", str(trained), "--target", "tflite", "-o", str(out), "--opt", "max_abs_error=0",
    )  # fmt: skip
    assert code == 2, err
    assert "parity FAILED" in stdout and "max abs error" in stdout
    assert (out / "model.tflite").exists()
    assert exports_table(trained)[-1][1:3] == ("tflite", "failed")


def test_a_converter_crash_is_an_error_line_and_is_recorded(trained, tmp_path) -> None:
    env = {**os.environ, "LAYERLOOM_EXPORT_CRASH": "1"}
    result = subprocess.run(
        [str(LAYERLOOM), "export", str(trained), "--target", "onnx", "-o", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1
    assert "converter crashed (SIGSEGV)" in result.stderr and "Traceback" not in result.stderr
    assert exports_table(trained)[-1][1:3] == ("onnx", "error")


def test_bad_requests_are_refused_before_any_worker_starts(trained, tmp_path, capsys) -> None:
    before = exports_table(trained)
    cases = [
        (["--target", "phone"], "unknown export target 'phone'"),
        (["--target", "tflite", "--opt", "quantization=int4"], "quantization"),
        (["--target", "onnx", "--opt", "opset"], "KEY=VALUE"),
        (["--target", "keras", "--run", "9"], "has no run 9"),
    ]
    for extra, message in cases:
        code, _, err = run(capsys, "export", str(trained), "-o", str(tmp_path / "o"), *extra)
        assert code == 1 and message in err and "Traceback" not in err
    assert exports_table(trained) == before


def test_a_node_the_target_cannot_take_is_refused_by_name(trained, tmp_path, capsys) -> None:
    code, _, err = run(
        capsys, "export", str(trained), "--target", "tfjs", "-o", str(tmp_path / "w")
    )
    assert code == 1
    assert (
        "node 'hidden_2' (Dense) cannot go to TF.js: TF.js has no 'exponential' activation" in err
    )
    assert not (tmp_path / "w").exists()


def test_untrained_project_and_unwritable_folder_are_clear_messages(tmp_path, capsys) -> None:
    fresh = tmp_path / "fresh.loom"
    assert main(["new", str(fresh), "--template", "small_cnn"]) == 0
    code, _, err = run(
        capsys, "export", str(fresh), "--target", "tflite", "-o", str(tmp_path / "o")
    )
    assert code == 1 and "no trained weights" in err and "train" in err


def test_an_unwritable_or_non_empty_folder_is_refused(trained, tmp_path, capsys) -> None:
    # sysfs refuses new folders even to root, so this holds for every user.
    code, _, err = run(capsys, "export", str(trained), "--target", "keras", "-o", "/sys/layerloom")
    assert code == 1 and "/sys/layerloom is not writable" in err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "export", str(trained), "--target", "keras", "-o", str(busy))
    assert code == 1 and "not empty" in err and "--overwrite" in err
    assert (busy / "notes.txt").read_text() == "mine"
    code, _, err = run(
        capsys, "export", str(trained), "--target", "keras", "-o", str(busy / "notes.txt")
    )
    assert code == 1 and "is a file, not a folder" in err
