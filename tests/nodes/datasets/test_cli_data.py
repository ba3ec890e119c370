"""`layerloom data`: set, show and refuse datasets on a saved project, as a user drives it."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from tests.nodes.datasets.conftest import write_csv


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path, capsys):
    path = tmp_path / "mlp.loom"
    assert run(capsys, "new", str(path), "--template", "mlp_classifier")[0] == 0
    return path


def stored(path):
    with open_project(path) as opened:
        return opened.project.get_setting("dataset")


def test_no_dataset_shows_the_template_sample(project, capsys) -> None:
    code, out, _ = run(capsys, "data", str(project))
    assert code == 0
    assert out.startswith("dataset (the template's sample): ")
    assert "sample tabular_classes: 1500 examples" in out
    assert (
        "fits the model: classification, 3 classes; 1050 train / 300 validation / 150 test" in out
    )
    assert stored(project) is None


def test_set_a_csv_then_show_it(project, tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    header = [f"f{i}" for i in range(20)] + ["label", "notes"]
    rows = [[*rng.normal(size=20).round(2), f"k{i % 3}", "x"] for i in range(30)]
    (tmp_path / "data").mkdir()
    write_csv(tmp_path / "data" / "t.csv", header, rows)
    features = ",".join(header[:20])
    code, out, err = run(
        capsys, "data", str(project), "--csv", str(tmp_path / "data" / "t.csv"),
        "--target", "label", "--features", features, "--validation", "0.3", "--seed", "5",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("dataset set: ") and "csv " in out and "30 rows" in out
    assert "notes: not used" in out and "18 train / 9 validation / 3 test" in out
    spec = stored(project)
    assert spec["path"] == "data/t.csv"  # relative: the data lives beside the project
    assert spec["split"]["validation"] == 0.3 and spec["split"]["seed"] == 5
    code, out, _ = run(capsys, "data", str(project), "--json")
    shown = json.loads(out)
    assert code == 0 and shown["dataset"] == spec and shown["default"] is False
    assert shown["info"]["num_validation"] == 9 and len(shown["fingerprint"]) == 64


def test_bad_data_exits_1_with_one_line_and_leaves_the_project(project, tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    header = [f"f{i}" for i in range(19)] + ["label"]
    rows = [[*rng.normal(size=19).round(2), i % 3] for i in range(10)]
    path = write_csv(tmp_path / "short.csv", header, rows)
    before = hashlib.sha256(project.read_bytes()).hexdigest()
    code, out, err = run(capsys, "data", str(project), "--csv", str(path), "--target", "label")
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "layerloom: error: short.csv has 19 feature columns but Input 'features' expects (20,);"
        " add --adapt to fit the graph to the data (4 changes)"
    ]
    assert stored(project) is None
    assert hashlib.sha256(project.read_bytes()).hexdigest() == before
    code, _, err = run(capsys, "data", str(project), "--images", str(tmp_path), "--target", "x")
    assert code == 1 and err.strip() == "layerloom: error: --target goes with --csv"


def test_sample_and_split_change(project, capsys) -> None:
    code, _, err = run(capsys, "data", str(project), "--sample", "digits")
    assert code == 1 and "sample 'digits' has examples of shape (28, 28, 1)" in err
    code, out, _ = run(capsys, "data", str(project), "--test", "0.2")
    assert code == 0 and out.startswith("dataset set: ")
    assert stored(project) == {"kind": "sample", "name": "tabular_classes", "split": {"test": 0.2}}
    assert "fits the model: classification, 3 classes; 900 train / 300 validation / 300 test" in out
