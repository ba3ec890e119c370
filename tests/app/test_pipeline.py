"""``layerloom pipeline`` end to end on small real CSVs (real Keras, real exports, real SQLite):
clean data is pushed as version 1; more data and more epochs as version 2; data with a dropped
column is refused at check-data; shuffled labels train but are not blessed; the project file
holds all four runs with their verdicts; an unchanged re-run is a no-op; and the pushed version,
loaded with ``tf.saved_model.load`` behind a TF Serving REST handler, answers as ``predict``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.pipeline import PipelineRequest, pipeline_runs, run_pipeline
from layerloom.app.workbench.pipeline_push import served_name
from layerloom.backends.registry import create_backend
from layerloom.nodes import training
from layerloom.nodes.datasets import store_dataset_spec
from tests.app.predict_projects import write_csv

pytestmark = pytest.mark.keras

LAYERLOOM = Path(sys.executable).parent / "layerloom"
HEADER = ["a", "couleur", "b", "étiquette"]
GATE = "accuracy>=0.8 and val_accuracy>=0.7"
SETTINGS = {"epochs": 6, "batch_size": 16, "learning_rate": 0.02, "batch_event_every": 1000}


def rows(count: int, seed: int) -> list[list[str]]:
    """Two numbers and a colour; the label is the sign of a + b, with a margin kept clear."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        a, b = rng.normal(size=2)
        if abs(a + b) < 0.4:
            continue
        colour = ["rouge", "bleu", "vert"][int(rng.integers(0, 3))]
        out.append([f"{a:.3f}", colour, f"{b:.3f}", "oui" if a + b > 0 else "non"])
    return out


def shuffled(table: list[list[str]], seed: int) -> list[list[str]]:
    labels = [row[3] for row in table]
    np.random.default_rng(seed).shuffle(labels)
    return [[*row[:3], label] for row, label in zip(table, labels, strict=True)]


def request(data: Path, push: Path, **more) -> PipelineRequest:
    return PipelineRequest(data=data, push_dir=push, gate=GATE, slice_column="couleur", **more)


class Story:
    """What the module's pipeline runs produced, for the tests to read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.push = folder / "servables"
        self.jobs = folder / "jobs"
        self.project = folder / "démo pipeline.loom"  # served under an ASCII name
        self.name = ""
        self.outcomes: list = []
        self.lines: list[str] = []

    def run(self, data: Path):
        backend = create_backend("inprocess", root=self.jobs)
        with open_project(self.project) as opened:
            outcome = run_pipeline(
                opened,
                request(data, self.push),
                backend=backend,
                eval_backend=backend,
                progress=self.lines.append,
            )
        self.outcomes.append(outcome)
        return outcome


def new_project(path: Path, base: Path) -> str:
    """A small classifier fitted to ``rows`` with ``base`` as its dataset; its served name."""
    with create_project(path, "mlp_classifier") as opened:
        for node in opened.graph.nodes():
            if node.name == "features":
                node.params["shape"] = [5]
            if node.name == "classes":
                node.params["units"] = 2
        opened.save("fitted to the data")
        store_dataset_spec(opened, {"kind": "csv", "path": str(base), "target": "étiquette"})
        training.save(opened.project, SETTINGS)
        return served_name(opened)


@pytest.fixture(scope="module")
def story(tmp_path_factory, keras_session) -> Story:
    folder = tmp_path_factory.mktemp("pipeline")
    story = Story(folder)
    story.name = new_project(story.project, write_csv(folder / "base.csv", HEADER, rows(200, 1)))
    assert story.name.isascii() and story.name.startswith("d")
    story.run(write_csv(folder / "semaine 1.csv", HEADER, rows(200, 2)))
    with open_project(story.project) as opened:  # a second run: more data, more epochs
        training.save(opened.project, {**SETTINGS, "epochs": 8})
    story.run(write_csv(folder / "semaine 2.csv", HEADER, rows(300, 3)))
    dropped = [[a, c, label] for a, c, _, label in rows(200, 4)]
    story.run(write_csv(folder / "sans b.csv", ["a", "couleur", "étiquette"], dropped))
    story.run(write_csv(folder / "mélangé.csv", HEADER, shuffled(rows(300, 5), 6)))
    return story


def versions(story: Story) -> list[str]:
    base = story.push / story.name
    return sorted(p.name for p in base.iterdir()) if base.is_dir() else []


def test_clean_data_is_pushed_as_version_1_then_better_as_version_2(story: Story) -> None:
    first, second = story.outcomes[:2]
    assert first.pushed and first.record.version == 1, first.message
    assert second.pushed and second.record.version == 2, second.message
    assert versions(story) == ["1", "2"]  # nothing hidden or half-written beside them
    version = story.push / story.name / "2"
    assert (version / "saved_model.pb").is_file() and (version / "variables").is_dir()
    request_body = json.loads((version / "assets.extra" / "request.json").read_text())
    assert len(request_body["instances"]) == 1
    steps = [s.step for s in second.record.steps]
    assert steps == ["check-data", "dataset", "train", "evaluate", "gate", "compare", "push"]
    assert all(s.status == "passed" for s in second.record.steps)
    compare = second.record.steps[5]
    assert compare.inputs["pushed_run"] == first.record.run_id
    assert compare.figures["metric"] == "accuracy"
    evaluation = second.record.steps[3].figures
    assert {row["class"] for row in evaluation["per_class"]} == {"non", "oui"}
    assert {s["value"] for s in evaluation["slices"]["couleur"]} == {"bleu", "rouge", "vert"}
    assert sum(s["samples"] for s in evaluation["slices"]["couleur"]) == evaluation["samples"]
    assert any(line.startswith("[train] run") for line in story.lines)  # progress per epoch


def test_a_dropped_column_is_refused_at_check_data(story: Story) -> None:
    refused = story.outcomes[2]
    assert not refused.pushed and refused.record.verdict == "refused"
    assert refused.record.decided_at == "check-data"
    assert "b" in refused.record.reason and "\n" not in refused.record.reason
    assert [s.step for s in refused.record.steps] == ["check-data"]
    assert refused.record.run_id is None  # nothing trained


def test_shuffled_labels_train_but_are_not_blessed(story: Story) -> None:
    refused = story.outcomes[3]
    assert refused.record.verdict == "refused" and refused.record.run_id is not None
    assert refused.record.decided_at in ("gate", "compare")
    assert "accuracy" in refused.record.reason
    assert versions(story) == ["1", "2"]  # nothing pushed
    with open_project(story.project, readonly=True) as opened:  # the dataset put back
        from layerloom.nodes.datasets import dataset_spec_for

        assert Path(dataset_spec_for(opened)["path"]) == story.folder / "semaine 2.csv"


def test_the_project_file_holds_every_pipeline_run_and_its_verdict(story: Story) -> None:
    conn = sqlite3.connect(f"file:{story.project}?mode=ro", uri=True)
    found = conn.execute(
        "SELECT id, verdict, decided_at, version FROM pipeline_runs ORDER BY id"
    ).fetchall()
    steps = conn.execute("SELECT COUNT(*) FROM pipeline_steps").fetchone()[0]
    conn.close()
    assert [row[1] for row in found] == ["pushed", "pushed", "refused", "refused"]
    assert [row[3] for row in found] == [1, 2, None, None]
    assert found[2][2] == "check-data"
    assert steps == 7 + 7 + 1 + len(story.outcomes[3].record.steps)
    with open_project(story.project, readonly=True) as opened:
        assert [r.id for r in pipeline_runs(opened)] == [1, 2, 3, 4]


def test_an_unchanged_rerun_does_nothing_and_says_so(story: Story) -> None:
    before = story.project.read_bytes()
    again = story.run(story.folder / "mélangé.csv")
    assert again.unchanged and again.record.id == 4
    assert "nothing to do" in again.message and "pipeline run 4" in again.message
    assert story.project.read_bytes() == before
    # The CLI says the same (no TensorFlow needed to find out) and prints the run with --json.
    done = subprocess.run(
        [str(LAYERLOOM), "pipeline", str(story.project), "--data", str(story.folder / "mélangé.csv"),
         "--push", str(story.push), "--gate", GATE, "--slice", "couleur", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["unchanged"] is True and printed["id"] == 4
    assert printed["verdict"] == "refused"


@pytest.mark.parametrize(
    ("gate", "words"),
    [
        ("accuracy >> 0.9", "expected METRIC OP NUMBER at .accuracy > >."),
        ("accuracy >= 0.9 ; drop", "cannot read .; drop."),
        ("precison>=0.9", "unknown metric 'precison'"),
        ("accuracy>=0.9 or loss<1", "expected 'and'"),
        ("accuracy>=", "expected METRIC OP NUMBER"),
        ("__import__('os')", "cannot read"),
    ],
)
def test_gate_errors_are_refused_by_name(tmp_path: Path, gate: str, words: str) -> None:
    from layerloom.app.workbench.pipeline_gate import GateError, known_metrics, parse_gate

    with pytest.raises(GateError, match=words):
        parse_gate(gate, known_metrics())
    good = parse_gate("accuracy >= 0.9 and val_loss<0.5", known_metrics())
    assert good.check({"accuracy": 0.95, "val_loss": 0.4})[0]
    assert not good.check({"accuracy": 0.95, "val_loss": 0.6})[0]


def test_the_cli_refuses_a_bad_gate_before_anything_runs(story: Story) -> None:
    before = story.project.read_bytes()
    done = subprocess.run(
        [str(LAYERLOOM), "pipeline", str(story.project), "--data", str(story.folder / "base.csv"),
         "--push", str(story.push), "--gate", "acuracy>=0.9"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown metric 'acuracy'" in done.stderr and len(done.stderr.splitlines()) == 1
    assert story.project.read_bytes() == before


def test_the_pushed_version_answers_tf_serving_rest_as_predict_does(story: Story) -> None:
    from layerloom.app.workbench.predicting import predict
    from layerloom.app.workbench.run_choice import choose_run, run_contract
    from layerloom.exporters.serving_rest import ServedModel, make_server

    table = rows(5, 9)
    sample = write_csv(story.folder / "à prédire.csv", HEADER[:3], [r[:3] for r in table])
    run_id = story.outcomes[1].record.run_id
    backend = create_backend("inprocess", root=story.jobs)
    with open_project(story.project, readonly=True) as opened:
        answer = predict(opened, [sample], run_id=run_id, top=2, backend=backend)
        contract = run_contract(choose_run(opened, run_id).summary)
    encoded = contract.encode_rows([dict(zip(HEADER[:3], r[:3], strict=True)) for r in table])
    served = ServedModel(story.push / story.name)
    assert served.version == 2
    (name,) = served.inputs
    server = make_server(served)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1/models/{story.name}:predict"
        body = json.dumps({"instances": encoded[name].tolist()}).encode()
        with urllib.request.urlopen(urllib.request.Request(url, body, method="POST")) as reply:
            predictions = json.loads(reply.read())["predictions"]
        bad = urllib.request.Request(url, b'{"instances": []}', method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad)
        assert refused.value.code == 400
    finally:
        server.shutdown()
        server.server_close()
    assert len(predictions) == len(answer.rows) == 5
    for served_row, row in zip(predictions, answer.rows, strict=True):
        by_label = {entry["label"]: entry["probability"] for entry in row["top"]}
        expected = [by_label["non"], by_label["oui"]]  # the model's class order (sorted)
        assert np.allclose(served_row, expected, atol=1e-5), (served_row, row)
        assert row["prediction"] == ["non", "oui"][int(np.argmax(served_row))]
