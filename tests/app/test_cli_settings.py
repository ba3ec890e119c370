"""`layerloom settings`: every training setting shown, set and refused by name; the validation
and test shares are the dataset spec's split (one place, also set by `layerloom data`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.nodes import training
from layerloom.nodes.datasets import stored_dataset_spec
from layerloom.nodes.project import Project


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cnn(tmp_path, capsys) -> Path:
    path = tmp_path / "cnn.loom"
    assert run(capsys, "new", str(path), "--template", "small_cnn")[0] == 0
    return path


def stored(path: Path) -> tuple[dict, dict | None]:
    with Project.open_readonly(path) as project:
        return project.get_setting(training.SETTING_KEY, {}), stored_dataset_spec(project)


def test_show_lists_every_setting_with_default_marker_and_help(cnn, capsys) -> None:
    code, out, _ = run(capsys, "settings", str(cnn))
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    for param in training.SETTINGS:
        assert param.name in lines and "(default)" in lines[param.name]
    assert "update rule" in lines["optimizer"]
    assert {"validation_split", "test_split", "augmentation"} <= lines.keys()
    assert "[dataset split]" in lines["validation_split"]
    code, out, _ = run(capsys, "settings", str(cnn), "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["augmentation"]["choices"] == list(training.AUGMENTATIONS)
    assert rows["validation_split"] == rows["validation_split"] | {
        "value": 0.2, "is_default": True, "where": "dataset split"
    }  # fmt: skip


def test_set_prints_each_change_and_stores_it(cnn, capsys) -> None:
    versions_before = len(Project.open_readonly(cnn).graph_versions())
    code, out, _ = run(
        capsys, "settings", str(cnn), "optimizer=sgd", "learning_rate=0.01", "epochs=3",
        "early_stopping=2", "schedule=cosine", "metrics=accuracy,auc", "loss=auto",
        "augmentation=flip_rotate", "validation_split=0.25", "seed=7", "batch_size=16",
    )  # fmt: skip
    assert code == 0, out
    for line in (
        "optimizer: adam -> sgd",
        "learning_rate: 0.001 -> 0.01",
        "epochs: 10 -> 3",
        "early_stopping: 0 -> 2",
        "schedule: constant -> cosine",
        "metrics: auto -> accuracy,auc",
        "augmentation: none -> flip_rotate",
        "validation_split: 0.2 -> 0.25",
        "seed: 42 -> 7",
        "batch_size: 32 -> 16",
    ):
        assert line in out, out
    assert "loss:" not in out  # unchanged values are not reported
    settings, spec = stored(cnn)
    assert training.resolve(settings)["augmentation"] == "flip_rotate"
    assert settings["optimizer"] == "sgd" and "loss" not in settings  # defaults are not stored
    assert spec == {"kind": "sample", "name": "digits", "split": {"validation": 0.25}}
    # the split is the dataset's: `layerloom data` shows the same one
    code, out, _ = run(capsys, "data", str(cnn), "--json")
    assert json.loads(out)["info"]["num_validation"] == 500
    # settings are not the graph: no graph version is added
    assert len(Project.open_readonly(cnn).graph_versions()) == versions_before
    code, out, _ = run(capsys, "settings", str(cnn), "--reset", "optimizer", "validation_split")
    assert "optimizer: sgd -> adam" in out and "validation_split: 0.25 -> 0.2" in out
    assert "optimizer" not in stored(cnn)[0]


def test_setting_the_same_values_changes_nothing(cnn, capsys) -> None:
    before = cnn.read_bytes()
    code, out, _ = run(capsys, "settings", str(cnn), "epochs=10", "validation_split=0.2")
    assert code == 0 and "nothing changed" in out
    assert cnn.read_bytes() == before


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["learning_rate=0"], "learning_rate must be >= 1e-08, got 0.0"),
        (["epochs=many"], "epochs must be an integer, got 'many'"),
        (["optimizer=adagrad"], "optimizer must be one of 'adam', 'adamw', 'sgd', 'rmsprop'"),
        (["metrics=accuracy,f1"], "unknown metric 'f1'"),
        (["lerning_rate=0.1"], "unknown setting 'lerning_rate'; did you mean 'learning_rate'?"),
        (["epochs"], "'epochs' is not KEY=VALUE"),
        (["validation_split=1.5"], "validation_split must be <= 0.95, got 1.5"),
        (["validation_split=0.9"], "split validation 0.9 + test 0.1 leaves nothing to train on"),
        (["augmentation=sideways"], "augmentation must be one of 'none', 'flip'"),
        (["schedule=step", "reduce_lr_on_plateau=true"], "reduce_lr_on_plateau needs schedule"),
    ],
)
def test_refused_settings_name_the_setting_exit_2_and_leave_the_bytes(
    cnn, capsys, pairs, message
) -> None:
    before = cnn.read_bytes()
    code, _, err = run(capsys, "settings", str(cnn), *pairs)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert cnn.read_bytes() == before


def test_augmentation_is_refused_for_a_model_without_image_inputs(tmp_path, capsys) -> None:
    path = tmp_path / "mlp.loom"
    run(capsys, "new", str(path), "--template", "mlp_classifier")
    before = path.read_bytes()
    code, _, err = run(capsys, "settings", str(path), "augmentation=flip")
    assert code == 2 and "augmentation 'flip' works on image inputs" in err
    assert path.read_bytes() == before
    # set behind the CLI's back, `train` refuses it before anything is recorded
    with Project.open(path) as project:
        training.save(project, {"augmentation": "flip"})
    before = path.read_bytes()
    code, _, err = run(capsys, "train", str(path), "--epochs", "1")
    assert code == 1 and "works on image inputs" in err and "augmentation=none" in err
    assert path.read_bytes() == before


def test_a_project_without_dataset_has_settings_but_no_split_to_set(tmp_path, capsys) -> None:
    path = tmp_path / "empty.loom"
    run(capsys, "new", str(path))
    code, out, _ = run(capsys, "settings", str(path), "epochs=4", "--json")
    assert code == 0
    assert json.loads(out) == {"changes": [{"name": "epochs", "old": 10, "new": 4}]}
    before = path.read_bytes()
    code, _, err = run(capsys, "settings", str(path), "validation_split=0.3")
    assert code == 2 and "has no dataset; set one with `layerloom data`" in err
    assert path.read_bytes() == before
