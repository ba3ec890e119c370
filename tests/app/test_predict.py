"""`layerloom predict`: a trained run asked about new raw files, end to end with real Keras.

Images (files, folders, non-ASCII names), a CSV with a categorical column (one prediction per row,
the target column ignored), an .npz and a regression; the answers are the model's own on the
inputs prepared as training prepared its data, and the same as a TF Lite export of the run fed
the raw files the documented way. Bad inputs are refused with exit 2, the project untouched.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.cli.common import EXIT_OK, EXIT_USER_ERROR
from layerloom.app.workbench import open_project
from layerloom.app.workbench.predicting import input_contract_for, predict
from layerloom.app.workbench.run_choice import choose_run
from layerloom.app.workbench.training import _plan_for
from layerloom.backends.model_inputs import collect, read, to_model_inputs
from layerloom.backends.protocol import checkpoint_files
from layerloom.backends.registry import create_backend
from layerloom.nodes.datasets import store_dataset_spec
from tests.app.predict_projects import (
    IMAGE_CLASSES,
    REGRESSION_HEADER,
    TABLE_HEADER,
    coloured,
    image_project,
    regression_project,
    regression_rows,
    table_project,
    table_rows,
    train,
    write_csv,
    write_png,
)

pytestmark = pytest.mark.keras
EXIT_USAGE = 2  # a value the user typed that cannot be used (an input that is not one)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def images(tmp_path_factory, keras_session):
    folder = tmp_path_factory.mktemp("images")
    path = image_project(folder)
    train(path, folder / "jobs")
    train(path, folder / "jobs", {"learning_rate": 0.01, "seed": 3})
    rng = np.random.default_rng(11)
    new = folder / "nouvelles images"
    for i, colour in enumerate(("bleu", "rouge", "rouge", "bleu")):
        write_png(new / f"été {i} ✓.png", coloured(rng, colour, (18 + i, 14)))
    write_png(new / "sous dossier" / "ñ.png", coloured(rng, "rouge", (16, 16)))
    return path, new, folder


@pytest.fixture(scope="module")
def table(tmp_path_factory, keras_session):
    folder = tmp_path_factory.mktemp("table")
    path = table_project(folder)
    train(path, folder / "jobs")
    return path, folder


@pytest.fixture(scope="module")
def regression(tmp_path_factory, keras_session):
    folder = tmp_path_factory.mktemp("regression")
    path = regression_project(folder)
    train(path, folder / "jobs")
    return path, folder


def inprocess(folder: Path):
    return create_backend("inprocess", root=folder / "predict-jobs")


def keras_outputs(
    project: Path, inputs: list, run_id: int | None = None
) -> tuple[list, np.ndarray]:
    """The run's Keras model on the inputs prepared by the same contract: names and outputs."""
    from layerloom.nodes.keras_build import build_model

    with open_project(project, readonly=True) as opened:
        chosen = choose_run(opened, run_id)
        plan = _plan_for(opened, chosen.summary.graph_version_id)
        contract, _, _ = input_contract_for(opened, plan)
    prepared = read(collect(inputs, contract), contract)
    model = build_model(plan)
    weights, _ = checkpoint_files(project.parent / f"weights-{chosen.run_id}")
    weights.write_bytes(chosen.checkpoint["weights"])
    model.load_weights(str(weights))
    outputs = model.predict(to_model_inputs(prepared, [i.name for i in plan.inputs]), verbose=0)
    return prepared.names, np.asarray(outputs)


def probabilities_of(rows: list[dict], labels: list[str]) -> np.ndarray:
    return np.array(
        [[{c["label"]: c["probability"] for c in r["top"]}[k] for k in labels] for r in rows]
    )


# --- images -------------------------------------------------------------------------------------


def test_images_in_files_and_folders_agree_with_keras(images) -> None:
    project, new, folder = images
    asked = [new, new / "été 0 ✓.png"]
    with open_project(project, readonly=True) as opened:
        result = predict(opened, asked, top=2, backend=inprocess(folder))
    names = [f"{new}/été {i} ✓.png" for i in range(4)] + [f"{new}/sous dossier/ñ.png"]
    assert [r["input"] for r in result.rows] == [*names, str(new / "été 0 ✓.png")]
    assert result.answer == "distribution" and result.output == "classes"
    expected_names, outputs = keras_outputs(project, asked)
    assert [r["input"] for r in result.rows] == expected_names
    probs = probabilities_of(result.rows, list(IMAGE_CLASSES))
    np.testing.assert_allclose(probs, outputs, atol=1e-6)
    for row, out in zip(result.rows, outputs, strict=True):
        assert row["prediction"] == IMAGE_CLASSES[int(np.argmax(out))]
        assert row["top"][0]["probability"] >= row["top"][1]["probability"]


def test_the_default_run_is_the_best_and_run_names_another(images, capsys) -> None:
    project, new, _ = images
    with open_project(project, readonly=True) as opened:
        best = choose_run(opened)
    other = 2 if best.run_id == 1 else 1
    before = digest(project)
    code, out, err = run(capsys, "predict", project, new / "sous dossier", "--json")
    assert code == EXIT_OK, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["run"] == best.run_id and row["input"] == f"{new / 'sous dossier'}/ñ.png"
    assert row["prediction"] in IMAGE_CLASSES and len(row["top"]) == 1
    code, out, err = run(
        capsys, "predict", project, new / "été 1 ✓.png", "--run", other, "--top", 2
    )
    assert code == EXIT_OK, err
    assert f"using run {other} (best checkpoint)" in err
    line = out.strip()
    assert line.startswith(str(new / "été 1 ✓.png")) and all(c in line for c in IMAGE_CLASSES)
    _, outputs = keras_outputs(project, [new / "été 1 ✓.png"], other)
    label = IMAGE_CLASSES[int(np.argmax(outputs[0]))]
    assert line.split()[-4] == label and float(line.split()[-3]) == pytest.approx(
        outputs[0].max(), abs=1e-4
    )
    assert digest(project) == before
    code, _, err = run(capsys, "predict", project, new, "--run", 9)
    assert code == EXIT_USER_ERROR and "has no run 9" in err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "absent.png", "absent.png does not exist"),
        (lambda d: write_csv(d / "t.csv", ["a"], [["1"]]), "t.csv is a CSV file, but this model"),
        (lambda d: _bytes(d / "cassé.png", b"\x89PNG\r\n\x1a\n..."), "cassé.png is not a readable"),
    ],
)
def test_bad_inputs_are_refused_with_exit_2_and_the_project_unchanged(
    images, capsys, tmp_path, make, message
) -> None:
    project = images[0]
    before = digest(project)
    code, out, err = run(capsys, "predict", project, make(tmp_path))
    assert code == EXIT_USAGE and out == ""
    assert message in err and err.strip().splitlines()[-1].startswith("layerloom: error:")
    assert digest(project) == before


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_top_must_be_a_count(images, capsys) -> None:
    project, new, _ = images
    code, _, err = run(capsys, "predict", project, new, "--top", 0)
    assert code == EXIT_USAGE and "top must be from 1" in err


# --- tables, arrays, values ----------------------------------------------------------------------


def test_a_csv_gives_one_prediction_per_row_its_target_ignored(table, capsys) -> None:
    project, folder = table
    rows = table_rows(7, seed=21)
    with_target = write_csv(folder / "avec cible.csv", TABLE_HEADER, rows)
    # Another column order, no target, an extra column: read by name, as training did.
    without = write_csv(
        folder / "sans.csv", ["b", "note", "couleur", "a"], [[r[2], "x", r[1], r[0]] for r in rows]
    )
    code, out, err = run(capsys, "predict", project, with_target, without, "--json", "--top", 2)
    assert code == EXIT_OK, err
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["input"] for a in answers[:2]] == [f"{with_target}:2", f"{with_target}:3"]
    assert len(answers) == 14 and answers[7]["input"] == f"{without}:2"
    assert [a["top"] for a in answers[:7]] == [a["top"] for a in answers[7:]]
    names, outputs = keras_outputs(project, [with_target])
    probs = np.array(
        [
            [{c["label"]: c["probability"] for c in a["top"]}[k] for k in ("non", "oui")]
            for a in answers[:7]
        ]
    )
    np.testing.assert_allclose(probs, outputs, atol=1e-5)


def test_an_unknown_category_is_named_by_file_line_and_column(table, capsys) -> None:
    project, folder = table
    bad = write_csv(
        folder / "mauvais.csv",
        TABLE_HEADER,
        [["1", "rouge", "2", "oui"], ["1", "mauve", "2", "non"]],
    )
    before = digest(project)
    with open_project(project, readonly=True) as opened:
        with pytest.raises(
            Exception, match=r"mauvais.csv, line 3, column 'couleur': 'mauve' was not"
        ):
            predict(opened, [bad], backend=inprocess(folder))
    assert digest(project) == before


def test_an_npz_is_fed_as_it_is(table) -> None:
    project, folder = table
    rows = table_rows(4, seed=8)
    csv_path = write_csv(folder / "quatre.csv", TABLE_HEADER, rows)
    with open_project(project, readonly=True) as opened:
        chosen = choose_run(opened)
        contract, _, _ = input_contract_for(
            opened, _plan_for(opened, chosen.summary.graph_version_id)
        )
        encoded = contract.encode_rows([dict(zip(TABLE_HEADER, r, strict=True)) for r in rows])
        np.savez(folder / "quatre.npz", x=encoded["features"].astype(np.float64))
        from_npz = predict(opened, [folder / "quatre.npz"], top=2, backend=inprocess(folder))
        from_csv = predict(opened, [csv_path], top=2, backend=inprocess(folder))
    assert [r["input"] for r in from_npz.rows] == [
        f"{folder / 'quatre.npz'}[{i}]" for i in range(4)
    ]
    assert [r["top"] for r in from_npz.rows] == [r["top"] for r in from_csv.rows]


def test_a_regression_predicts_values(regression, capsys) -> None:
    project, folder = regression
    data = write_csv(
        folder / "nouvelles valeurs.csv",
        REGRESSION_HEADER[:-1],
        [r[:-1] for r in regression_rows(5, seed=9)],
    )
    with open_project(project, readonly=True) as opened:
        result = predict(opened, [data], top=3, backend=inprocess(folder))
    assert result.answer == "values" and all(set(r) == {"input", "value"} for r in result.rows)
    _, outputs = keras_outputs(project, [data])
    np.testing.assert_allclose([r["value"] for r in result.rows], outputs[:, 0], atol=1e-5)
    code, out, err = run(capsys, "predict", project, data)
    assert code == EXIT_OK, err
    printed = [float(line.split()[-1]) for line in out.splitlines()]
    np.testing.assert_allclose(printed, outputs[:, 0], rtol=1e-5)


# --- the same answers as the phone ---------------------------------------------------------------


def tflite_runner(project: Path, out: Path):
    from ai_edge_litert.interpreter import Interpreter

    from layerloom.app.workbench.exporting import export

    copy = out.parent / f"export-{project.name}"
    shutil.copy(project, copy)  # the export records itself: leave the tests' project as it was
    with open_project(copy) as opened:
        outcome = export(opened, "tflite", out)
    assert outcome.passed, outcome.error
    return Interpreter(model_path=str(out / "model.tflite")).get_signature_runner("serving_default")


def test_raw_images_through_tflite_give_the_same_answers(images, tmp_path) -> None:
    import tensorflow as tf

    project, new, folder = images
    files = sorted(new.rglob("*.png"))
    with open_project(project, readonly=True) as opened:
        result = predict(opened, files, top=2, backend=inprocess(folder))
    runner = tflite_runner(project, tmp_path / "phone")
    # As the export's README says: decode to RGB, resize bilinearly to 16x16, pixel values 0..255.
    raw = [tf.io.decode_png(f.read_bytes(), channels=3) for f in files]
    batch = np.stack([tf.image.resize(image, (16, 16), method="bilinear").numpy() for image in raw])
    phone = np.concatenate([runner(image=x[None].astype(np.float32))["classes"] for x in batch])
    ours = probabilities_of(result.rows, list(IMAGE_CLASSES))
    agreement = np.mean(phone.argmax(axis=1) == ours.argmax(axis=1))
    assert agreement == 1.0 and np.abs(phone - ours).max() <= 1e-4


def test_raw_csv_rows_through_tflite_give_the_same_answers(table, tmp_path) -> None:
    import csv

    project, folder = table
    data = write_csv(folder / "téléphone.csv", TABLE_HEADER, table_rows(9, seed=4))
    with open_project(project, readonly=True) as opened:
        result = predict(opened, [data], top=2, backend=inprocess(folder))
        chosen = choose_run(opened)
        contract, _, _ = input_contract_for(
            opened, _plan_for(opened, chosen.summary.graph_version_id)
        )
    runner = tflite_runner(project, tmp_path / "phone")
    with data.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    features = contract.encode_rows(rows)["features"]
    phone = np.concatenate([runner(features=x[None])["classes"] for x in features])
    ours = probabilities_of(result.rows, ["non", "oui"])
    agreement = np.mean(phone.argmax(axis=1) == ours.argmax(axis=1))
    assert agreement == 1.0 and np.abs(phone - ours).max() <= 1e-4


def test_a_run_answers_with_the_contract_it_recorded_whatever_the_data_becomes(
    table, tmp_path, capsys
) -> None:
    project, folder = table
    copy = tmp_path / "copie.loom"
    shutil.copy(project, copy)
    more = write_csv(tmp_path / "plus.csv", TABLE_HEADER, table_rows(40, seed=99))
    code, before, _ = run(capsys, "predict", copy, more, "--json")
    assert code == EXIT_OK
    with open_project(copy) as opened:
        store_dataset_spec(opened, {"kind": "csv", "path": str(more), "target": "étiquette"})
    code, after, err = run(capsys, "predict", copy, more, "--json")
    assert code == EXIT_OK, err
    assert "warning" not in err and after == before and len(after.splitlines()) == 40


def test_a_run_without_a_recorded_contract_reads_the_data_and_warns_when_it_changed(
    table, tmp_path, capsys
) -> None:
    import json
    import sqlite3

    project, folder = table
    copy = tmp_path / "ancienne.loom"
    shutil.copy(project, copy)
    with sqlite3.connect(copy) as conn:  # a run recorded before runs kept their contract
        (settings,) = conn.execute("SELECT settings FROM runs WHERE id = 1").fetchone()
        older = {k: v for k, v in json.loads(settings).items() if k != "input_contract"}
        conn.execute("UPDATE runs SET settings = ? WHERE id = 1", [json.dumps(older)])
    more = write_csv(tmp_path / "plus.csv", TABLE_HEADER, table_rows(40, seed=99))
    with open_project(copy) as opened:
        store_dataset_spec(opened, {"kind": "csv", "path": str(more), "target": "étiquette"})
    code, out, err = run(capsys, "predict", copy, more, "--json")
    assert code == EXIT_OK, err
    assert "warning: the project's dataset has changed since run 1 trained" in err
    assert len(out.splitlines()) == 40


def test_an_export_states_the_contract_its_run_trained_with(table, tmp_path) -> None:
    import json

    from layerloom.app.workbench.exporting import export

    project, _ = table
    copy = tmp_path / "exportée.loom"
    shutil.copy(project, copy)
    with open_project(copy) as opened:
        recorded = choose_run(opened).summary.settings["input_contract"]
        # The same columns, but the colours renamed: a file that fits with another vocabulary.
        renamed = [[a, {"rouge": "rot", "bleu": "blau", "vert": "grün"}[c], b, y]
                   for a, c, b, y in table_rows(30, seed=7)]  # fmt: skip
        other = write_csv(tmp_path / "autre.csv", TABLE_HEADER, renamed)
        store_dataset_spec(opened, {"kind": "csv", "path": str(other), "target": "étiquette"})
        outcome = export(opened, "keras", tmp_path / "out")
    assert outcome.passed, outcome.error
    written = json.loads((tmp_path / "out" / "input.json").read_text(encoding="utf-8"))
    assert written == recorded
    assert written["columns"]["features"][1]["vocabulary"] == ["bleu", "rouge", "vert"]
