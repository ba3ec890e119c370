"""``layerloom pipeline --remote NAME`` against the real throwaway sshd (tests/backends/sshd.py):
clean data trains on the remote, is evaluated here, holds the gate and is pushed as version 1;
the pipeline run's train step records the remote backend, as the run record does."""

from __future__ import annotations

import json
import sys

import pytest

from layerloom.app.workbench import open_project
from layerloom.app.workbench.pipeline import pipeline_runs
from tests.app.predict_projects import write_csv
from tests.app.test_pipeline import GATE, HEADER, new_project, rows
from tests.app.test_remote_cli import add_box, cli  # noqa: F401 (cli is a fixture)
from tests.backends.sshd import AVAILABLE

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        not AVAILABLE, reason="OpenSSH (sshd, ssh) is not installed; installer/setup.sh installs it"
    ),
]


def test_clean_data_trained_on_a_remote_is_pushed_as_version_1(cli, server, tmp_path) -> None:  # noqa: F811
    add_box(cli, server, tmp_path, "--python", sys.executable)
    project = tmp_path / "à distance.loom"
    name = new_project(project, write_csv(tmp_path / "base.csv", HEADER, rows(200, 1)))
    push = tmp_path / "servables"
    data = write_csv(tmp_path / "semaine 1.csv", HEADER, rows(200, 2))
    done = cli(
        "pipeline", str(project), "--data", str(data), "--push", str(push), "--gate", GATE,
        "--remote", "box", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["verdict"] == "pushed" and printed["version"] == 1, printed
    version = push / name / "1"
    assert (version / "saved_model.pb").is_file() and (version / "variables").is_dir()
    runs = json.loads(cli("runs", str(project), "--json").stdout)
    assert [(r["backend"], r["status"]) for r in runs] == [("remote:box", "finished")]
    with open_project(project, readonly=True) as opened:
        (record,) = pipeline_runs(opened)
    steps = {s.step: s for s in record.steps}
    assert list(steps) == ["check-data", "dataset", "train", "evaluate", "gate", "compare", "push"]
    assert all(s.status == "passed" for s in record.steps)
    assert steps["train"].inputs["backend"] == "remote:box"
    assert steps["train"].inputs["run"] == record.run_id == runs[0]["id"]
    assert steps["evaluate"].figures["samples"] > 0  # evaluated here on the test split
