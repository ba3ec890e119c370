"""The Export dialog over the real export back end: targets and their generated option forms,
refusals before anything starts, and a real export of a trained project (its own worker process)
to the end, with the parity report, the files and the history.

One project is trained once per module (``layerloom train --epochs 1`` in a subprocess, as a
script would); each test exports from its own copy, so recorded exports do not leak between tests.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl

from layerloom.app.gui.document import Document
from layerloom.app.gui.export_compat import compatibility
from layerloom.app.workbench import OpenProject, create_project
from layerloom.app.workbench.exporting import exports
from layerloom.exporters.registry import default_exporters
from layerloom.nodes.project import Project
from layerloom.nodes.registry import default_registry
from layerloom.nodes.serialize import graph_from_dict
from tests.gui.export_helpers import limited_capabilities

LAYERLOOM = Path(sys.executable).parent / "layerloom"
WORKER_TIMEOUT_MS = 120_000
needs_tensorflow = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
)


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory) -> Path:
    """mlp_classifier trained for one epoch on its sample: a real run with real checkpoints."""
    path = tmp_path_factory.mktemp("trained") / "mlp.loom"
    create_project(path, "mlp_classifier").close()
    result = subprocess.run(
        [str(LAYERLOOM), "train", str(path), "--epochs", "1"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def trained_copy(trained_project, tmp_path) -> Path:
    copy = tmp_path / "project" / "mlp.loom"
    copy.parent.mkdir()
    shutil.copy(trained_project, copy)
    return copy


class DialogPrompts:
    """The dialog's calls that would wait on a person or the desktop, scripted and recorded."""

    def __init__(self, dialog):
        self.overwrite: list[bool] = []
        self.opened: list[QUrl] = []
        self.asked: list[str] = []

        def overwrite(folder):
            self.asked.append(f"overwrite {folder}")
            assert self.overwrite, f"unexpected prompt: overwrite {folder}"
            return self.overwrite.pop(0)

        dialog.ask_overwrite = overwrite
        dialog.open_url = self.opened.append
        dialog.ask_folder = lambda _start: pytest.fail("unexpected folder dialog")


def open_dialog(window):
    dialog = window.export_model()
    return dialog, DialogPrompts(dialog)


def test_the_dialog_lists_every_target_with_its_generated_options(make_window, qtbot, tmp_path):
    document = Document(create_project(tmp_path / "fresh.loom", "mlp_classifier"))
    window, prompts = make_window(document)
    assert window.act.export.shortcut().toString() == "Ctrl+E"
    assert window.act.export in window.toolbar.actions()
    assert not window.act.export.isEnabled()  # nothing trained yet

    dialog, _ = open_dialog(window)  # the command still works when called directly
    expected = [exporter.target for exporter in default_exporters()]
    assert "keras" in expected
    assert list(dialog.picker.buttons) == expected
    for exporter in default_exporters():
        button = dialog.picker.buttons[exporter.target]
        assert button.title_label.text() == exporter.title
        assert button.summary_label.text() == exporter.summary
        assert button.isEnabled() == (exporter.unavailable() is None), button.reason
        if not button.isEnabled():
            assert button.reason == exporter.unavailable() and button.reason_label.isVisible()
            continue
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert dialog.current_target() == exporter.target
        form = dialog.forms.get(exporter.target)
        names = [p.name for p in exporter.options]
        assert (list(form.editors) if form else []) == names
        assert dialog.options.currentWidget() is (form or dialog.no_options)
        if form is not None:
            assert form.values() == exporter.resolve_options({})
        assert Path(dialog.folder_edit.text()) == tmp_path / "exports" / exporter.target
        # Figures before the export: a microcontroller's flash and RAM, nothing for the others.
        if exporter.target == "micro":
            assert dialog.estimate.isVisibleTo(dialog)
            assert "Flash (model) ≈" in dialog.estimate.text()
            assert "RAM (tensor arena) ≈" in dialog.estimate.text()
        else:
            assert not dialog.estimate.isVisibleTo(dialog)

    # an untrained project: one clear line on the dialog, no worker, no error box
    dialog.picker.buttons["keras"].click()
    assert "train the model first" in dialog.message.text()
    assert not dialog.run_combo.isEnabled()
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert not dialog.running
    assert "has no trained weights to export" in dialog.message.text()
    assert "Traceback" not in dialog.message.text()
    assert dialog.message.isVisible() and prompts.errors == []
    assert exports(document.opened) == []


@pytest.mark.keras
@needs_tensorflow
def test_targets_that_refuse_the_runs_graph_are_disabled_and_say_why(
    make_window, qtbot, trained_copy
):
    capabilities = limited_capabilities(
        {"onnx": "ONNX refuses Dense (test limit)", "tflite.int8": "no int8 Dense (test limit)"}
    )
    registry = default_registry()
    project = Project.open(trained_copy)
    version_id, data = project.latest_graph()
    document = Document(OpenProject(project, graph_from_dict(data, registry), registry, version_id))
    compatibility(document, capabilities)
    window, _ = make_window(document)
    assert window.act.export.isEnabled()
    window.act.export.trigger()
    dialog = window.export_dialog
    assert dialog.isVisible() and dialog.current_run().id == 1
    assert dialog.checkpoint_combo.currentData() == "best"

    onnx = dialog.picker.buttons["onnx"]
    assert not onnx.isEnabled()
    assert onnx.reason == (
        "node 'hidden_1' (Dense) cannot go to ONNX: ONNX refuses Dense (test limit) (and 2 more)"
    )
    assert "node 'classes' (Dense)" in onnx.toolTip()
    assert dialog.picker.buttons["keras"].isEnabled()

    # an option that brings another limit in: the target stays selectable, Export says why not
    if "tflite" in dialog.picker.buttons and dialog.picker.buttons["tflite"].isEnabled():
        dialog.picker.select("tflite")
        assert dialog.export_button.isEnabled()
        dialog.forms["tflite"].edit("quantization", "int8")
        assert not dialog.export_button.isEnabled()
        assert "cannot go to TF Lite (int8): no int8 Dense" in dialog.message.text()
        dialog.forms["tflite"].edit("quantization", "float32")
        assert dialog.export_button.isEnabled()


@pytest.mark.keras
@needs_tensorflow
def test_a_keras_export_runs_to_the_end_and_shows_the_parity_report(
    make_window, qtbot, trained_copy
):
    document = Document.open(trained_copy)
    window, prompts = make_window(document)
    assert window.act.export.isEnabled()
    window.act.export.trigger()
    dialog, asked = window.export_dialog, DialogPrompts(window.export_dialog)
    assert dialog.run_combo.currentText().startswith("Run #1 · finished · 1 epoch")
    dialog.picker.buttons["keras"].click()
    folder = trained_copy.parent / "exports" / "keras"
    assert Path(dialog.folder_edit.text()) == folder
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("the user's own file")
    # Someone's own files are never replaced: refused in one line, nothing asked, nothing lost.
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert not dialog.running and asked.asked == []
    assert "not a Layerloom export" in dialog.message.text()
    assert (folder / "notes.txt").read_text() == "the user's own file"
    # A previous Layerloom export there: the dialog asks, then replaces it whole.
    (folder / "notes.txt").unlink()
    (folder / "old.keras").write_text("an earlier export")
    (folder / ".layerloom-export.json").write_text('{"layerloom_export": 1, "target": "keras"}')

    asked.overwrite.append(True)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert asked.asked == [f"overwrite {folder}"]
    assert dialog.running, dialog.message.text()
    assert not dialog.session.done  # the click returned while the worker works
    assert dialog.timer.isActive() and dialog.stack.currentIndex() == 1
    assert dialog.progress.isVisible() and dialog.progress.bar.maximum() == 0  # busy bar
    assert dialog.progress.title.text().startswith("Exporting run #1 (best checkpoint")

    # Closing the dialog only hides it: the export goes on and the status bar reports its end.
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert dialog.isHidden() and dialog.running
    qtbot.waitUntil(lambda: not dialog.running, timeout=WORKER_TIMEOUT_MS)
    assert window.statusBar().currentMessage() == "Exported to Keras (.keras): parity check passed"
    # File > Export... shows it again, with the report of the export that ended meanwhile
    window.act.export.trigger()
    assert window.export_dialog is dialog and dialog.isVisible()
    report = dialog.report.texts()
    assert report["status"] == "Keras (.keras): ✓ Passed", report
    assert dialog.report.isVisible() and dialog.outcome.status == "passed"
    assert report["samples"].endswith("from validation")  # the project's own held-out data
    assert report["tolerance"] == "max abs error ≤ 0.0001"
    assert report["runtime"].startswith("Keras")
    assert float(report["max_abs_error"]) <= 1e-4
    assert "mlp.keras" in report["files"] and "parity.json" in report["files"]
    assert (folder / "mlp.keras").is_file()

    qtbot.mouseClick(dialog.report.open_button, Qt.MouseButton.LeftButton)
    assert asked.opened == [QUrl.fromLocalFile(str(folder))]

    recorded = exports(document.opened)
    assert [(r.target, r.status, r.run_id) for r in recorded] == [("keras", "passed", 1)]
    assert dialog.history.rows()[0][2:5] == ["Keras (.keras)", "#1", "passed"]
    assert prompts.errors == []

    # Export Again: back to the setup with the same choices
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    assert dialog.stack.currentIndex() == 0 and dialog.current_target() == "keras"
    assert dialog.export_button.isEnabled()


@pytest.mark.keras
@needs_tensorflow
def test_cancel_stops_the_worker_and_records_nothing(make_window, qtbot, trained_copy):
    document = Document.open(trained_copy)
    window, _ = make_window(document)
    dialog, _asked = open_dialog(window)
    dialog.picker.buttons["keras"].click()
    assert dialog.export()
    qtbot.mouseClick(dialog.progress.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.progress.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WORKER_TIMEOUT_MS)
    assert dialog.report.texts()["status"] == "Keras (.keras): Cancelled"
    assert exports(document.opened) == []
