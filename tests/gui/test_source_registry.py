"""Adding a data source is one module: a registered source shows up in `layerloom data` (its flag,
its options, storing it) and on the GUI's Data tab (its label, file dialog and fields) with no
other change. The source here is real: it reads a text file of numbers, the class last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.gui.document import Document
from layerloom.app.gui.training.dataset_panel import DatasetPanel
from layerloom.app.workbench import open_project
from layerloom.nodes.datasets import SOURCES, DatasetError, Preview, SourceOption, register_source
from layerloom.nodes.datasets.base import sha256_file
from layerloom.nodes.datasets.fit import Target, target_from_values
from layerloom.nodes.datasets.memory import InMemorySource
from layerloom.nodes.plan import BuildPlan


class NumbersSource(InMemorySource):
    """Whitespace-separated numbers, one example per line; the last number is the class."""

    kind = "numbers"
    options = ("skip",)
    label = "Numbers in a text file"
    what = "a text file of numbers"
    file_filter = "Text (*.txt);;All files (*)"
    cli_help = "text file: numbers per line, the class last"
    cli_options = (
        SourceOption("skip", "lines to skip at the top", "N", default=0, parse=int, label="Skip"),
    )

    def table(self) -> np.ndarray:
        return np.loadtxt(self.require_path(), skiprows=int(self.spec.get("skip", 0)), ndmin=2)

    def inputs_for(self, plan: BuildPlan) -> dict[str, np.ndarray]:
        return {self.single_input(plan): self.table()[:, :-1]}

    def target(self) -> Target:
        return target_from_values(self.table()[:, -1].astype(np.int64))

    def count(self) -> int:
        return len(self.table())

    def fingerprint(self) -> str:
        return sha256_file(self.require_path())

    def preview(self, rows: int = 5) -> Preview:
        return Preview(kind=self.kind, path=str(self.path), count=self.count(), unit="rows")


@pytest.fixture
def numbers_source():
    register_source(NumbersSource)
    yield NumbersSource
    del SOURCES[NumbersSource.kind]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "mlp.loom"  # its model reads 20 features and tells 3 classes apart
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    return path


def write_numbers(path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = [" ".join([*(f"{v:.2f}" for v in rng.normal(size=20)), str(i % 3)]) for i in range(30)]
    path.write_text("# a comment line\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def stored(path: Path) -> dict[str, Any] | None:
    with open_project(path) as opened:
        return opened.project.get_setting("dataset")


def test_a_registered_source_is_a_cli_flag(numbers_source, project, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["data", "--help"])
    help_text = capsys.readouterr().out
    assert "--numbers FILE" in help_text and "numbers per line, the class last" in help_text
    assert "numbers: lines to skip at the top" in help_text

    data = write_numbers(tmp_path / "n.txt")
    assert main(["data", str(project), "--numbers", str(data), "--skip", "1"]) == 0
    out = capsys.readouterr().out
    assert "numbers " in out and "30 rows" in out and "classification, 3 classes" in out
    assert stored(project) == {"kind": "numbers", "path": "n.txt", "skip": 1}

    assert main(["data", str(project), "--csv", str(data), "--skip", "1"]) == 1
    assert "--skip goes with --numbers" in capsys.readouterr().err


def test_a_registered_source_is_a_gui_choice(numbers_source, qtbot, project, tmp_path) -> None:
    document = Document.open(project)
    panel = DatasetPanel(document)
    qtbot.addWidget(panel)
    panel.refresh()
    index = panel.kind.findData("numbers")
    assert index >= 0 and panel.kind.itemText(index) == "Numbers in a text file"
    panel.kind.setCurrentIndex(index)
    with pytest.raises(DatasetError, match="choose a text file of numbers first"):
        panel.chosen_spec()

    data = write_numbers(tmp_path / "n.txt")
    panel.ask_path = lambda kind: str(data) if kind == "numbers" else None
    panel.browse("numbers")
    panel.fields["numbers"]["skip"].setText("1")
    assert panel.use(), panel.error
    assert stored(project) == {
        "kind": "numbers",
        "path": "n.txt",
        "skip": 1,
        "split": {"validation": 0.2, "test": 0.1, "seed": 42},
    }
    assert "classification, 3 classes" in panel.status.text()
    document.close()
