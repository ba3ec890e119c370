"""inspect and explain end to end: the CLI on a project without runs (initial weights), and the
workbench use cases on trained image and CSV projects (raw files read as predict reads them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.explaining import explain
from layerloom.app.workbench.inspecting import inspect
from layerloom.backends.registry import create_backend
from layerloom.nodes.png import decode_png_gray
from tests.app.predict_projects import image_project, table_project, train

LAYERLOOM = Path(sys.executable).parent / "layerloom"
pytestmark = pytest.mark.keras


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LAYERLOOM), *args], capture_output=True, text=True, timeout=300)


def test_inspect_cli_uses_the_initial_weights_without_a_run(tmp_path):
    path = tmp_path / "ébauche.loom"
    create_project(path, "small_cnn").close()
    before = path.read_bytes()
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "x.npz", x=rng.uniform(0, 255, (2, 28, 28, 1)).astype("float32"))
    maps = tmp_path / "cartes"
    done = cli("inspect", str(path), str(tmp_path / "x.npz"), "--json", "--maps", str(maps))
    assert done.returncode == 0, done.stderr
    nodes = json.loads(done.stdout)["nodes"]
    assert [n["node"] for n in nodes][:3] == ["image", "rescale", "conv_1"]
    assert set(nodes[0]) == {
        "node", "type", "shape", "min", "max", "mean", "std", "zero_fraction",
        "nonfinite_fraction",
    }  # fmt: skip
    assert nodes[2]["shape"] == [26, 26, 16] and nodes[-1]["shape"] == [10]
    grid = decode_png_gray((maps / "conv_1.png").read_bytes())
    assert grid.shape == (4 * 27 - 1, 4 * 27 - 1)  # 16 maps of 26x26 in a 4x4 grid
    assert not (maps / "classes.png").exists()  # a vector has no maps
    text = cli("inspect", str(path), str(tmp_path / "x.npz"), "--node", "conv_2")
    assert text.returncode == 0, text.stderr
    assert "initial weights (seed 42" in text.stdout and "conv_2" in text.stdout
    assert "conv_1" not in text.stdout
    wrong = cli("inspect", str(path), str(tmp_path / "x.npz"), "--node", "nope")
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines()[-1].startswith("layerloom: error: the model has no")
    assert path.read_bytes() == before


def test_explain_and_inspect_an_image_model(tmp_path):
    import tensorflow as tf

    path = image_project(tmp_path)
    jobs = tmp_path / "jobs"
    run_id = train(path, jobs)
    backend = create_backend("inprocess", root=jobs)
    files = sorted((tmp_path / "images" / "rouge").glob("*.png"))[:3]
    out = tmp_path / "pourquoi"
    with open_project(path, readonly=True) as opened:
        found = explain(opened, files, out_dir=out, backend=backend)
        looked = inspect(opened, files[:1], backend=backend)
        asked = explain(opened, files[:2], class_name="bleu", backend=backend)
    assert found.method == "grad-cam" and found.node == "conv_2"
    assert found.run_id == run_id and f"run {run_id}" in found.reason
    for row, file in zip(found.rows, files, strict=True):
        assert row["prediction"] in ("bleu", "rouge")
        heat = decode_png_gray((out / f"{file.stem}.heatmap.png").read_bytes())
        shown = decode_png_gray((out / f"{file.stem}.overlay.png").read_bytes())
        original = tf.io.decode_png(file.read_bytes()).numpy()  # written filtered, by TF
        assert heat.shape == original.shape[:2]  # the file's own size, not the model's 16x16
        assert shown.shape == original.shape
    first = found.to_json()[0]
    assert set(first) == {"input", "prediction", "node", "peak", "heatmap", "overlay"}
    assert [row["explained"] for row in asked.rows] == ["bleu", "bleu"]  # --class
    assert [row["prediction"] for row in asked.rows] == [r["prediction"] for r in found.rows[:2]]
    assert looked.run_id == run_id and looked.samples == 1
    assert looked.nodes[0]["shape"] == [16, 16, 3]


def test_explain_a_table_model_sums_one_hot_columns(tmp_path):
    path = table_project(tmp_path)
    jobs = tmp_path / "jobs"
    train(path, jobs)
    data = tmp_path / "données.csv"
    with open_project(path, readonly=True) as opened:
        found = explain(opened, [data], backend=create_backend("inprocess", root=jobs))
    assert found.method == "integrated-gradients" and found.baseline == "training mean"
    rows = found.to_json()
    assert len(rows) == 60
    assert set(rows[0]) == {"input", "prediction", "attributions"}
    assert list(rows[0]["attributions"]) == ["a", "couleur", "b"]
    assert rows[0]["input"].endswith("données.csv:2")
    assert rows[0]["prediction"] in ("non", "oui")
