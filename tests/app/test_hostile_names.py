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
from typing import Any

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project

LAYERLOOM = Path(sys.executable).parent / "layerloom"
CHROMIUM = Path("/usr/bin/chromium")
LABELS = [
    "<img src=x onerror=\"document.title='pwned'\">",
    "=cmd|' /C calc'!A0",
    'two\nlines "quoted" *bold* | `code`',
    # sorts last, so class N is LABELS[N]
    'x</script><b>y "; DROP TABLE runs; -- é',
]
# A categorical column whose values are hostile too: one-hot over them, in sorted order.
COLOURS = ["rouge", "bl`eu</script>", 'vert "ü"']
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
        classes = opened.graph.by_name("классы")
        opened.graph.set_params(classes.id, {**classes.params, "units": len(LABELS)})
        opened.save("names that are not ASCII")
    rng = random.Random(0)
    with (folder / "données.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        # 17 numbers and one categorical column of 3 values: the template's 20 features
        writer.writerow([f"mesure_{i}_é" for i in range(17)] + ["couleur", "étiquette"])
        for row in range(90):
            writer.writerow(
                [round(rng.gauss(row % 4, 1), 3) for _ in range(17)]
                + [COLOURS[row % 3], LABELS[row % 4]]
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
        assert lines == [LABELS[0], LABELS[1], 'two\\nlines "quoted" *bold* | `code`', LABELS[3]]
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


# --- every export states and carries its exact input (issue 14, items 2 and 7) -------------------


def _exported(project: Path, target: str, capsys) -> Path:
    """The project's export to ``target``: made by the parity test above, or here when that one
    did not run."""
    out_dir = project.parent / f"export-{target}"
    if not (out_dir / ".layerloom-export.json").is_file():
        code, _, err = run(capsys, "export", str(project), "--target", target, "-o", str(out_dir))
        assert code == 0, err
    return out_dir


def _contract(project: Path) -> tuple[Any, Any]:
    """The project's input contract, computed here, and the first row of its validation split
    as the CSV file holds it (the example the exports show)."""
    from layerloom.nodes.compile import build_plan
    from layerloom.nodes.datasets import dataset_spec_for, open_source

    with open_project(project) as opened:
        plan = build_plan(opened.graph, opened.registry, "model")
        source = open_source(dataset_spec_for(opened))
    contract = source.input_contract(plan, source.check(plan))
    with (project.parent / "données.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return contract, rows[int(source.split_indices()["validation"][0])]


@pytest.mark.parametrize("target", TARGETS)
def test_every_export_carries_its_input_and_labels_inert(project, target, capsys) -> None:
    from layerloom.exporters.text_formats import c_string, markdown
    from layerloom.nodes.datasets.contract import InputContract

    out_dir = _exported(project, target, capsys)
    contract, _ = _contract(project)
    stated = json.loads((out_dir / "input.json").read_text(encoding="utf-8"))
    assert InputContract.from_json(stated) == contract
    assert stated["class_names"] == LABELS  # JSON keeps the text exactly, inert
    name = contract.inputs[0].name  # the Input node's name, made a safe tensor name
    assert [c["vocabulary"] for c in stated["columns"][name] if c["kind"] != "numeric"] == [
        sorted(COLOURS)
    ]
    labels = (out_dir / "labels.txt").read_text(encoding="utf-8").splitlines()
    assert labels[3] == LABELS[3] and len(labels) == len(LABELS)
    manifest = json.loads((out_dir / ".layerloom-export.json").read_text(encoding="utf-8"))
    assert {"input.json", "labels.txt", "README.md", "parity.json"} <= set(manifest["files"])

    readme = (out_dir / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Input\n", 1)[1]
    assert f"- Input {markdown(name)} takes these columns, in this order:" in section
    assert "  - [0] mesure\\_0\\_é: the number as it is" in section
    assert "  - [16] mesure\\_16\\_é: the number as it is" in section
    assert "  - [17..19] couleur: one-hot, 1.0 at the position of its value among" in section
    assert "bl\\`eu&lt;/script&gt;" in section and "- The target column étiquette" in section
    assert "x&lt;/script&gt;&lt;b&gt;y" in section  # the label, shown as text
    for path in out_dir.rglob("*"):
        if path.suffix not in (".md", ".js", ".py") or path.name == "tf.min.js":
            continue
        text = path.read_text(encoding="utf-8")
        assert "</script>" not in text and "<b>" not in text and "two\nlines" not in text, path
    if target == "micro":  # a C string literal: quotes and newlines escaped; it compiled
        header = (out_dir / "model_settings.h").read_text(encoding="utf-8")
        assert all(c_string(label) in header for label in LABELS)
        assert '\\"; DROP TABLE' in header and "\\012" in header
    if target == "tfjs":  # the page itself never holds a label; its data is JavaScript
        assert "DROP TABLE" not in (out_dir / "index.html").read_text(encoding="utf-8")
        script = (out_dir / "model-data.js").read_text(encoding="utf-8")
        data = json.loads(script.split("window.LAYERLOOM_MODEL = ", 1)[1].rstrip().rstrip(";"))
        assert data["labels"] == LABELS


def test_the_readme_snippet_encodes_a_real_row_as_the_contract_does(project, capsys) -> None:
    import numpy as np

    out_dir = _exported(project, "onnx", capsys)
    contract, row = _contract(project)
    readme = (out_dir / "README.md").read_text(encoding="utf-8")
    code = re.search(r"(`{3,})python\n(import json\n.*?)\n\1\n", readme, re.S)
    assert code, readme
    done = subprocess.run(
        [sys.executable, "-c", code.group(2)],
        cwd=out_dir,  # it reads input.json from the export folder
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    want = contract.encode_rows([row])
    name = contract.inputs[0].name
    assert list(printed) == list(want) == [name]
    np.testing.assert_array_equal(np.float32(printed[name]), want[name][0])
    assert want[name][0][17:].tolist().count(1.0) == 1  # the row's colour, one-hot
    shown = re.search(r"prints \(.*?\):\n\n```json\n(.*?)\n```", readme, re.S)
    assert shown and json.loads(shown.group(1)) == printed


def test_the_serving_request_is_a_real_example_with_its_expected_answer(project, capsys) -> None:
    import numpy as np
    import tensorflow as tf

    from layerloom.exporters.text_formats import markdown

    out_dir = _exported(project, "serving", capsys)
    contract, row = _contract(project)
    (instance,) = json.loads((out_dir / "request.json").read_text(encoding="utf-8"))["instances"]
    name = contract.inputs[0].name
    np.testing.assert_array_equal(np.float32(instance), contract.encode_rows([row])[name][0])
    readme = (out_dir / "README.md").read_text(encoding="utf-8")
    assert "curl -d @request.json -X POST http://localhost:8501/v1/models/" in readme
    expected = json.loads(
        re.search(r"The expected answer.*?```json\n(.*?)\n```", readme, re.S).group(1)
    )
    (saved,) = out_dir.glob("*/1/saved_model.pb")
    signature = tf.saved_model.load(str(saved.parent)).signatures["serving_default"]
    answer = signature(**{name: tf.constant([instance], dtype=tf.float32)})
    got = answer[contract.output].numpy()
    np.testing.assert_allclose(got[0], expected["predictions"][0], atol=1e-6)
    best = int(np.argmax(got[0]))
    assert f"that is class {best} ({markdown(LABELS[best])}), score" in readme
