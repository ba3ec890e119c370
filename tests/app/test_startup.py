"""Start-up a user feels: the commands that read a project never import TensorFlow, and the ones
that need it say so before it loads.

Each command runs in a fresh interpreter (the test session itself may have TensorFlow loaded), on
a project made by ``layerloom new`` exactly as a user makes one. How long anything takes is
measured in ``bench/startup.py``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LAYERLOOM = Path(sys.executable).parent / "layerloom"

# Runs one CLI command in this interpreter, then prints which of TensorFlow/Keras it loaded.
PROBE = """
import contextlib, io, json, sys
from layerloom.app.cli import main
out = io.StringIO()
try:
    with contextlib.redirect_stdout(out):
        code = main(sys.argv[1:])
except SystemExit as exit_:  # --help
    code = exit_.code
loaded = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print(json.dumps({"code": code, "loaded": loaded, "out": out.getvalue()}))
"""

# Runs one CLI command and notes, at the first text written to stderr, whether TensorFlow was
# already imported by then.
FIRST_LINE = """
import json, sys
from layerloom.app.cli import main

class Stderr:
    def __init__(self, stream):
        self.stream, self.first = stream, None
    def write(self, text):
        if self.first is None and text.strip():
            self.first = {"line": text.strip(), "tensorflow": "tensorflow" in sys.modules}
        return self.stream.write(text)
    def flush(self):
        self.stream.flush()

sys.stderr = Stderr(sys.stderr)
code = main(sys.argv[1:])
sys.__stdout__.write("\\n" + json.dumps({"code": code, "first": sys.stderr.first}) + "\\n")
"""


def probe(script: str, *argv: str, cwd: Path) -> dict:
    env = {**os.environ, "XDG_CONFIG_HOME": str(cwd / "config")}  # no user's remotes.toml
    result = subprocess.run(
        [sys.executable, "-c", script, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    subprocess.run(
        [str(LAYERLOOM), "new", "P.loom", "--template", "mlp_classifier"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return folder / "P.loom"


LIGHT_COMMANDS = [
    ["info", "P.loom"],
    ["info", "P.loom", "--json"],
    ["validate", "P.loom"],
    ["validate", "P.loom", "--json"],
    ["layers"],
    ["layers", "--json"],
    ["layers", "conv"],
    ["templates"],
    ["templates", "--json"],
    ["runs", "P.loom"],
    ["runs", "P.loom", "--json"],
    ["exports", "P.loom"],
    ["exports", "P.loom", "--json"],
    ["exporters"],
    ["settings", "P.loom"],
    ["settings", "P.loom", "--json"],
    ["remote", "list"],
    ["--help"],
    ["remote", "--help"],
    ["attach", "--help"],
    ["stop", "--help"],
    ["summary", "--help"],
    ["train", "--help"],
    ["evaluate", "--help"],
    ["export", "--help"],
]


@pytest.mark.parametrize("argv", LIGHT_COMMANDS, ids=" ".join)
def test_reading_commands_never_import_tensorflow(project, argv) -> None:
    outcome = probe(PROBE, *argv, cwd=project.parent)
    assert outcome["code"] == 0, outcome
    assert outcome["out"].strip()  # the command did its work, not an early exit
    assert outcome["loaded"] == [], f"`layerloom {' '.join(argv)}` imported {outcome['loaded']}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A project with a run and an export, so the listings have rows to show."""
    folder = tmp_path_factory.mktemp("trained")
    for argv in (
        ["new", "P.loom", "--template", "mlp_classifier"],
        ["train", "P.loom", "--epochs", "1", "--json"],
        ["export", "P.loom", "--target", "keras", "-o", "out", "--json"],
    ):
        result = subprocess.run(
            [str(LAYERLOOM), *argv], cwd=folder, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"layerloom {argv[0]}: {result.stderr[-2000:]}"
    return folder / "P.loom"


@pytest.mark.parametrize(
    "argv",
    [
        ["runs", "P.loom"],
        ["runs", "P.loom", "--json"],
        ["exports", "P.loom"],
        ["exports", "P.loom", "--json"],
        ["info", "P.loom"],
        ["validate", "P.loom"],
        ["stop", "P.loom", "1"],  # refused: run 1 is finished
        ["attach", "P.loom", "1"],  # refused: nothing to attach to
    ],
    ids=" ".join,
)
def test_listing_a_trained_project_never_imports_tensorflow(trained, argv) -> None:
    outcome = probe(PROBE, *argv, cwd=trained.parent)
    assert outcome["code"] == (1 if argv[0] in ("stop", "attach") else 0), outcome
    assert "no runs" not in outcome["out"] and "no exports" not in outcome["out"]
    assert outcome["loaded"] == [], f"`layerloom {' '.join(argv)}` imported {outcome['loaded']}"


def test_help_loads_no_command_s_registries(project) -> None:
    """``layerloom --help`` lists the commands without configuring them: no data sources (NumPy),
    no workbench (networkx), no exporters."""
    script = PROBE.replace(
        '("tensorflow", "keras")',
        '("numpy", "networkx", "layerloom.app.workbench", "layerloom.exporters.registry")',
    )
    outcome = probe(script, "--help", cwd=project.parent)
    assert outcome["code"] == 0 and "exporters" in outcome["out"]
    assert outcome["loaded"] == []


def test_summary_says_so_before_tensorflow_loads(project) -> None:
    outcome = probe(FIRST_LINE, "summary", "P.loom", cwd=project.parent)
    assert outcome["code"] == 0
    assert outcome["first"] == {"line": "Starting TensorFlow…", "tensorflow": False}


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "missing.loom"],
        ["evaluate", "P.loom"],  # no run yet: the command fails after its first line
        ["export", "P.loom", "--target", "keras", "-o", "out"],
    ],
    ids=lambda argv: argv[0],
)
def test_tensorflow_commands_say_so_first_except_with_json(project, argv) -> None:
    outcome = probe(FIRST_LINE, *argv, cwd=project.parent)
    assert outcome["first"] == {"line": "Starting TensorFlow…", "tensorflow": False}
    quiet = subprocess.run(
        [str(LAYERLOOM), *argv, "--json"],
        capture_output=True,
        text=True,
        cwd=project.parent,
        timeout=120,
    )
    assert "Starting TensorFlow" not in quiet.stderr
