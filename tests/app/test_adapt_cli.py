"""`layerloom new ... --csv/--images/--npz` and `layerloom data ... --adapt`, driven as a user
would: exit codes, the task line and one line per change, nothing written on bad data, the scale
warning, and a fitted project that trains an epoch (real Keras, in-process backend)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.app.workbench.adapting import scale_warnings_for
from layerloom.nodes import training
from layerloom.nodes.compile import build_plan
from tests.nodes.datasets.conftest import write_csv
from tests.nodes.test_adapt import image_folder


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def houses(tmp_path: Path) -> Path:
    """An integer price with many values, a categorical town, numbers of very different scales."""
    rng = np.random.default_rng(4)
    rows = []
    for i in range(120):
        area, rate = rng.uniform(30, 4000), rng.uniform(0.001, 0.009)
        rows.append(
            [f"{area:.1f}", f"{rate:.5f}", "ABC"[i % 3], int(area * 100 + rng.integers(0, 50))]
        )
    return write_csv(tmp_path / "maisons.csv", ["surface", "taux", "ville", "prix"], rows)


def test_new_from_a_csv_picks_the_regressor_and_prints_every_change(
    capsys, tmp_path, houses
) -> None:
    project = tmp_path / "maisons.loom"
    code, out, err = run(capsys, "new", project, "--csv", houses, "--target", "prix")
    assert code == 0, err
    lines = out.splitlines()
    assert (
        lines[0] == "template: mlp_regressor (tabular regression; choose another with --template)"
    )
    assert lines[1].startswith("task: regression: the target holds 120 different integers")
    assert lines[1].endswith("override with --task classification")
    assert lines[2] == (
        "- Input 'features': shape (6,) -> (5,); maisons.csv has 5 feature columns (after one-hot"
        " encoding 'ville' into 3)"
    )
    assert "- training loss: auto -> mean_squared_error (for regression)" in lines
    assert any(line.startswith("created ") and "fitted to maisons.csv" in line for line in lines)
    assert "dataset: regression; 84 train / 24 validation / 12 test" in lines
    assert err == ""  # the template normalises: no scale warning
    with open_project(project) as opened:
        assert opened.project.get_setting("dataset")["path"] == "maisons.csv"
        assert opened.project.get_setting("dataset")["task"] == "regression"
        assert training.load(opened.project)["metrics"] == "mae"
        assert build_plan(opened.graph, opened.registry).inputs[0].shape == [5]
        assert opened.version_id == 1  # one graph version: the fitted one


def test_new_with_a_template_and_a_task_and_new_from_images_and_npz(
    capsys, tmp_path, houses
) -> None:
    code, out, err = run(
        capsys, "new", tmp_path / "c.loom", "--template", "mlp_classifier", "--csv", houses,
        "--target", "ville", "--task", "classification",
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0] == "task: classification: as asked"
    assert "- output 'classes': units 3 -> 3" not in out

    photos = image_folder(tmp_path / "photos", [(12, 10), (14, 11)])
    code, out, err = run(capsys, "new", tmp_path / "i.loom", "--images", photos)
    assert code == 0, err
    assert out.startswith("template: small_cnn (images; choose another with --template)\n")
    assert "- Input 'image': shape (28, 28, 1) -> (28, 28, 3); the images are colour" in out
    assert "- output 'classes': units 10 -> 2 (2 classes: chat, chien)" in out

    arrays = tmp_path / "seq.npz"
    rng = np.random.default_rng(5)
    np.savez(arrays, x=rng.normal(size=(30, 9, 2)).astype(np.float32), y=np.arange(30) % 2)
    code, out, err = run(capsys, "new", tmp_path / "s.loom", "--npz", arrays)
    assert code == 0, err
    assert out.startswith("template: lstm_sequence (sequences of feature vectors;")


def test_new_on_bad_data_writes_no_file(capsys, tmp_path, houses) -> None:
    project = tmp_path / "rien.loom"
    code, _, err = run(capsys, "new", project, "--csv", houses, "--target", "absent")
    assert code == 1 and "maisons.csv has no column 'absent'" in err
    code, _, err = run(capsys, "new", project, "--csv", tmp_path / "missing.csv", "--target", "x")
    assert code == 1 and "does not exist" in err
    photos = image_folder(tmp_path / "photos", [(12, 10)])
    code, _, err = run(capsys, "new", project, "--images", photos, "--task", "regression")
    assert code == 1 and "an image folder is a classification dataset" in err
    assert len(err.strip().splitlines()) == 1
    assert not project.exists()
    assert list(tmp_path.glob("*.loom*")) == []


def test_data_refuses_what_does_not_fit_suggests_adapt_then_adapts(
    capsys, tmp_path, houses
) -> None:
    project = tmp_path / "mlp.loom"
    assert run(capsys, "new", project, "--template", "mlp_classifier")[0] == 0
    before = digest(project)
    code, _, err = run(capsys, "data", project, "--csv", houses, "--target", "prix")
    assert code == 1
    assert err.strip().endswith("add --adapt to fit the graph to the data (5 changes)")
    assert digest(project) == before  # refused: the file is as it was

    code, out, err = run(capsys, "data", project, "--csv", houses, "--target", "prix", "--adapt")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("task: regression: ")
    changes = [line for line in lines if line.startswith("- ")]
    assert changes == [
        "- Input 'features': shape (20,) -> (5,); maisons.csv has 5 feature columns (after"
        " one-hot encoding 'ville' into 3)",
        "- add Normalization after Input 'features' (features to mean 0, variance 1, adapted on"
        " the training split)",
        "- output 'classes': units 3 -> 1, activation softmax -> linear (1 target value per"
        " example)",
        "- training loss: auto -> mean_squared_error (for regression)",
        "- training metrics: auto -> mae (for regression)",
    ]
    assert "fits the model: regression; 84 train / 24 validation / 12 test" in out
    with open_project(project) as opened:
        assert opened.version_id == 2  # the template's version, then one fitted version
        assert opened.project.get_setting("dataset")["task"] == "regression"

    # Again: already fitted, nothing saved.
    code, out, _ = run(capsys, "data", project, "--adapt")
    assert code == 0 and "- the graph already fits the data" in out
    with open_project(project) as opened:
        assert opened.version_id == 2


def test_the_scale_warning_is_one_line_naming_the_columns(capsys, tmp_path, houses) -> None:
    project = tmp_path / "raw.loom"
    assert run(capsys, "new", project, "--template", "mlp_classifier")[0] == 0
    features = "surface,taux"
    code, _, err = run(
        capsys, "data", project, "--csv", houses, "--target", "ville", "--features", features,
        "--adapt",
    )  # fmt: skip
    assert code == 0 and err == ""  # adapted: a Normalization is in front of the features

    plain = tmp_path / "plain.loom"
    assert run(capsys, "new", plain, "--template", "mlp_classifier")[0] == 0
    with open_project(plain) as opened:  # a graph that takes the 2 features, unnormalised
        node = opened.graph.by_name("features")
        opened.graph.set_params(node.id, {**node.params, "shape": [2]})
        opened.save("two features")
    code, _, err = run(
        capsys, "data", plain, "--csv", houses, "--target", "ville", "--features", features
    )
    assert code == 0
    (line,) = err.strip().splitlines()
    assert line.startswith("warning: the features differ in scale by ")
    assert "('taux' up to " in line and "'surface' up to " in line
    with open_project(plain) as opened:  # what `train` prints before it starts
        assert scale_warnings_for(opened) == [line]


@pytest.mark.keras
def test_a_fitted_project_trains_an_epoch(capsys, tmp_path, houses, keras_session) -> None:
    from layerloom.app.workbench.training import start_run
    from layerloom.backends.registry import create_backend

    project = tmp_path / "maisons.loom"
    assert run(capsys, "new", project, "--csv", houses, "--target", "prix")[0] == 0
    with open_project(project) as opened:
        session = start_run(
            opened,
            {"epochs": 1, "batch_size": 16, "checkpoint_seconds": 0},
            backend=create_backend("inprocess", root=tmp_path / "jobs"),
        )
        events = list(session.events(timeout=300))
        session.close()
    assert session.status == "finished", session.error
    (epoch,) = [e for e in events if e["type"] == "epoch"]
    assert {"loss", "mae"} <= set(epoch["metrics"])
