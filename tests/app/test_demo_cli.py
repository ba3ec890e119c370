"""`layerloom demo`: the sample project created, trained, evaluated and exported, end to end.

The full demo (8 epochs, seven targets) takes about a minute on two cores; the test trains one
epoch and exports to two targets through the same code (the hidden --epochs/--targets flags).
"""

from __future__ import annotations

import re

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.app.workbench.demo import DEMO_PROJECT, create_demo_project, demo_targets
from layerloom.app.workbench.exporting import exports
from layerloom.app.workbench.training import runs
from layerloom.app.workbench.training_settings import show_settings


@pytest.mark.keras
def test_demo_trains_evaluates_exports_and_says_where(tmp_path, capsys) -> None:
    folder = tmp_path / "démo ü"  # a name a user types
    code = main(["demo", str(folder), "--epochs", "1", "--targets", "keras,tflite"])
    out, err = capsys.readouterr()
    assert code == 0, err
    project = folder / DEMO_PROJECT
    with open_project(project, readonly=True) as opened:
        [run] = runs(opened)
        recorded = {(item.target, item.status) for item in exports(opened)}
    assert run.status == "finished" and run.epochs == 1
    assert recorded == {("keras", "passed"), ("tflite", "passed")}
    assert (folder / "exports" / "tflite").is_dir() and (folder / "exports" / "keras").is_dir()
    assert "epoch 1/1" in err  # the train command's progress line
    assert "accuracy" in out and "parity of each export" in out
    table = out.split("parity of each export")[1]
    assert "keras" in table and "tflite" in table and "passed" in table
    assert str(folder.resolve()) in out and f"layerloom gui {project}" in out


def test_demo_refuses_a_folder_with_files(tmp_path, capsys) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    assert main(["demo", str(folder)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_demo_refuses_an_unknown_target_before_writing(tmp_path, capsys) -> None:
    folder = tmp_path / "new"
    assert main(["demo", str(folder), "--targets", "keras,nope"]) == 2
    assert "'nope'" in capsys.readouterr().err
    assert not folder.exists()
    assert main(["demo", str(folder), "--epochs", "0"]) == 2
    assert "--epochs must be at least 1" in capsys.readouterr().err
    assert not folder.exists()


def test_demo_project_is_ready_to_train_with_the_demo_epochs(tmp_path) -> None:
    path = create_demo_project(tmp_path, epochs=3)
    assert path == tmp_path / DEMO_PROJECT
    epochs = next(row for row in show_settings(path) if row.name == "epochs")
    assert str(epochs.value) == "3"


def test_demo_targets_are_every_export_target_with_why_not() -> None:
    found = demo_targets()
    assert [t.target for t in found][:7] == [
        "tflite", "micro", "tfjs", "serving", "onnx", "keras", "python"
    ]  # fmt: skip
    assert all(t.unavailable is None or t.unavailable.strip() for t in found)


@pytest.mark.keras
def test_a_target_this_machine_cannot_run_is_skipped_with_the_reason(
    tmp_path, capsys, monkeypatch
) -> None:
    # No Node.js on PATH (as on a machine without it): TF.js cannot check parity, so it is skipped.
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    folder = tmp_path / "demo"
    code = main(["demo", str(folder), "--epochs", "1", "--targets", "tfjs,keras"])
    out, err = capsys.readouterr()
    assert code == 0, err
    [skipped] = [line for line in out.splitlines() if line.strip().startswith("tfjs: skipped")]
    assert "node" in skipped.lower()
    table = out.split("parity of each export")[1]
    assert re.search(r"tfjs\s+skipped", table) and re.search(r"keras\s+passed", table)
    assert not (folder / "exports" / "tfjs").exists()
    with open_project(folder / DEMO_PROJECT, readonly=True) as opened:
        assert [item.target for item in exports(opened)] == ["keras"]
