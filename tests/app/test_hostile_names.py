"""Names and labels a user may type, end to end (issue 15, items 1, 2 and 11): a project file,
nodes, CSV columns and class labels that are not ASCII, with newlines, quotes, HTML and
spreadsheet formulas, go through data, train, evaluate and every export target; labels are escaped
per format and the TF.js page runs no script from them; exports land whole, in place, and
``--overwrite`` replaces only a previous Layerloom export."""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project

LAYERLOOM = Path(sys.executable).parent / "layerloom"
CHROMIUM = Path("/usr/bin/chromium")
LABELS = [
    "<img src=x onerror=\"document.title='pwned'\">",
    "=cmd|' /C calc'!A0",
    'two\nlines "quoted" *bold* | `code`',
]
TARGETS = ("keras", "python", "tflite", "onnx", "serving", "tfjs", "micro")

pytestmark = pytest.mark.keras


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """café.loom: the MLP template with non-ASCII node names, trained one epoch on données.csv
    (non-ASCII columns, hostile labels)."""
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "café.loom"
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    with open_project(path) as opened:
        for old, new in [
            ("features", "entrée"),
            ("hidden_1", "couche_cachée"),
            ("classes", "классы"),
        ]:
            opened.graph.rename(opened.graph.by_name(old).id, new)
        opened.save("names that are not ASCII")
    rng = random.Random(0)
    with (folder / "données.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"mesure_{i}_é" for i in range(20)] + ["étiquette"])
        for row in range(90):
            writer.writerow(
                [round(rng.gauss(row % 3, 1), 3) for _ in range(20)] + [LABELS[row % 3]]
            )
    assert (
        main(["data", str(path), "--csv", str(folder / "données.csv"), "--target", "étiquette"])
        == 0
    )
    done = subprocess.run(
        [str(LAYERLOOM), "train", str(path), "--epochs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return path


def test_validate_evaluate_and_summary_take_names_that_are_not_ascii(project, capsys) -> None:
    code, out, _ = run(capsys, "validate", str(project))
    assert code == 0
    code, out, err = run(capsys, "evaluate", str(project), "--json")
    assert code == 0, err
    assert json.loads(out)["classes"] == LABELS


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_exports_and_passes_parity(project, target, capsys) -> None:
    out_dir = project.parent / f"export-{target}"
    code, out, err = run(
        capsys, "export", str(project), "--target", target, "-o", str(out_dir), "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "passed" and all(Path(f).is_file() for f in report["files"])
    manifest = json.loads((out_dir / ".layerloom-export.json").read_text())
    assert manifest["target"] == target and manifest["project"].endswith("café.loom")
    leftovers = [p.name for p in project.parent.iterdir() if ".layerloom-export-" in p.name]
    assert leftovers == []  # the staging folder was renamed into place
    for labels in out_dir.rglob("labels.txt"):
        lines = labels.read_text(encoding="utf-8").splitlines()
        assert lines == [LABELS[0], LABELS[1], 'two\\nlines "quoted" *bold* | `code`']
    for readme in out_dir.rglob("README.md"):
        text = readme.read_text(encoding="utf-8")
        assert "<img" not in text and "two\nlines" not in text


def test_readme_labels_are_escaped_markdown(project) -> None:
    text = (project.parent / "export-keras" / "README.md").read_text(encoding="utf-8")
    assert "0: &lt;img src=x onerror=\"document.title='pwned'\"&gt;" in text
    assert r'2: two\\nlines "quoted" \*bold\* \| \`code\`' in text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_the_tfjs_page_shows_hostile_labels_as_text_and_runs_no_script(project, tmp_path) -> None:
    page = project.parent / "export-tfjs" / "index.html"
    if not page.exists():
        pytest.skip("the tfjs export test did not run")
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=30000", "--dump-dom",
        page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
    assert re.search(r'<pre id="result">([^<]+)</pre>', done.stdout), done.stderr[-2000:]
    assert "<title>pwned</title>" not in done.stdout  # the onerror handler never ran
    assert "<img" not in done.stdout  # no element was made from a label
    assert "&lt;img src=x onerror=" in done.stdout  # the label, shown as text


def test_overwrite_replaces_only_a_previous_export_whole(project, tmp_path, capsys) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    for extra in ((), ("--overwrite",)):
        code, _, err = run(
            capsys, "export", str(project), "--target", "keras", "-o", str(mine), *extra
        )
        assert code == 1
        assert err.strip().splitlines()[-1] == (
            f"layerloom: error: the output folder {mine.resolve()} is not empty and holds no"
            " Layerloom export (.layerloom-export.json); --overwrite replaces only a previous"
            " export: choose an empty or new folder"
        )
    assert (mine / "thesis.tex").read_text() == "precious"
    out = tmp_path / "phone"
    assert run(capsys, "export", str(project), "--target", "tflite", "-o", str(out))[0] == 0
    code, _, err = run(capsys, "export", str(project), "--target", "onnx", "-o", str(out))
    assert code == 1 and err.strip().splitlines()[-1] == (
        f"layerloom: error: the output folder {out.resolve()} is not empty (a tflite export);"
        " choose an empty folder or replace it (--overwrite)"
    )
    code, _, _ = run(
        capsys, "export", str(project), "--target", "onnx", "-o", str(out), "--overwrite"
    )
    assert code == 0
    assert not (out / "model.tflite").exists() and (out / "model.onnx").exists()  # never mixed


def test_a_failed_export_leaves_no_folder(project, tmp_path, capsys) -> None:
    out = tmp_path / "tiny"
    code, _, err = run(
        capsys,
        "export",
        str(project),
        "--target",
        "micro",
        "-o",
        str(out),
        "--opt",
        "max_arena_kb=1",
    )
    assert code == 1 and "layerloom: error:" in err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []
