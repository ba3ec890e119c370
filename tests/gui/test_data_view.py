"""The Statistics tab: statistics off the GUI thread with small histograms, the schema, and the
anomalies of a chosen file (the schema inferred then stored); rendered to PNG."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from layerloom.app.gui.document import Document
from layerloom.app.gui.training.data_view import DataView
from layerloom.nodes.datasets import store_dataset_spec
from tests.gui.helpers import png_dir

HOSTILE = "prix </script>\n€"


def write(path: Path, n: int, seed: int, shift: float = 0.0) -> Path:
    rng = np.random.default_rng(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["age", "colour", HOSTILE, "label"])
        for _ in range(n):
            writer.writerow(
                [
                    f"{rng.normal(40 + shift, 8):.2f}",
                    rng.choice(["red", "blue", "grün"]),
                    f"{rng.exponential(1):.3f}",
                    rng.choice(["yes", "no"]),
                ]
            )
    return path


@pytest.fixture
def view(qtbot, tmp_path):
    document = Document.new(tmp_path / "p.loom", "mlp_classifier")
    train = write(tmp_path / "train.csv", 400, 1)
    store_dataset_spec(document.opened, {"kind": "csv", "path": str(train), "target": "label"})
    widget = DataView()
    qtbot.addWidget(widget)
    widget.set_document(document)
    widget.resize(1100, 420)
    yield widget
    document.opened.close()


def test_statistics_then_a_checked_file_rendered(qtbot, view, tmp_path):
    view.compute()
    assert not view.compute_button.isEnabled()  # reading off the GUI thread
    qtbot.waitUntil(lambda: view.statistics is not None, timeout=10_000)
    names = [view.table.item(r, 0).text() for r in range(view.table.rowCount())]
    assert names == ["age", "colour", '"prix </script>\\n€"', "label"]
    assert view.table.item(0, 2).text() == "400"
    assert not view.table.item(0, 9).data(0x1).isNull()  # a histogram pixmap
    assert view.status.text().startswith("Class balance:")
    # Names are plain text everywhere: escaped in the rich-text tooltip, plain in the labels.
    assert "&lt;/script&gt;" in view.table.item(2, 0).toolTip()
    assert view.heading.textFormat() == view.status.textFormat() == Qt.TextFormat.PlainText

    shifted = write(tmp_path / "new.csv", 300, 2, shift=12)
    view.check(str(shifted))
    qtbot.waitUntil(lambda: view.check_button.isEnabled(), timeout=10_000)
    lines = [view.anomalies.item(i).text() for i in range(view.anomalies.count())]
    assert any(line.startswith('drift: column "age"') for line in lines)
    assert "stored in the project" in view.status.text()
    assert view.document.opened.project.get_setting("data_schema")["target"] == "label"

    view.compute()  # now with the schema's column
    qtbot.waitUntil(lambda: view.compute_button.isEnabled(), timeout=10_000)
    assert view.table.item(0, 10).text().startswith("required")
    view.show()
    qtbot.waitExposed(view)
    view.grab().save(str(png_dir() / "data_view.png"))


def test_a_missing_file_is_one_line_in_the_status(qtbot, view, tmp_path):
    view.check(str(tmp_path / "absent.csv"))
    qtbot.waitUntil(lambda: view.check_button.isEnabled(), timeout=10_000)
    assert view.status.text().startswith("no such file") and "\n" not in view.status.text()
