"""File ▸ Import…: the dialog's two modes, a real import on its thread, the report, the project
opening on the canvas; each rendered to PNG."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerloom.app.gui.import_dialog import ImportDialog, ImportReportDialog, run_import
from tests.gui.helpers import png_dir


def test_dialog_builds_both_kinds_of_request(qtbot, tmp_path) -> None:
    dialog = ImportDialog(start=tmp_path)
    qtbot.addWidget(dialog)
    with pytest.raises(ValueError, match="where the new project goes"):
        dialog.request()
    dialog.target.setText(str(tmp_path / "mine"))
    with pytest.raises(ValueError, match="model file"):
        dialog.request()
    dialog.model_path.setText("model.keras")
    assert dialog.request() == {"source": "model.keras", "out_path": tmp_path / "mine.loom"}
    dialog.from_app.setChecked(True)
    assert not dialog.model_path.isEnabled() and dialog.input_shape.isEnabled()
    dialog.application.setCurrentText("DenseNet121")
    dialog.input_shape.setText("32,32,3")
    dialog.classes.setValue(10)
    assert dialog.request() == {
        "source": "keras.applications.DenseNet121",
        "out_path": tmp_path / "mine.loom",
        "input_shape": (32, 32, 3),
        "classes": 10,
        "weights": None,
    }
    dialog.show()
    dialog.grab().save(str(png_dir() / "import_dialog.png"))


@pytest.mark.keras
def test_import_runs_reports_and_opens(make_window, qtbot, tmp_path, keras_session) -> None:
    import keras

    x = keras.Input((4,), name="x")
    frozen = keras.layers.Dense(3, name="hidden")
    frozen.trainable = False
    hidden = frozen(x)
    odd = keras.layers.Lambda(lambda t: t * 2, name="doubled")(hidden)
    keras.Model(x, keras.layers.Dense(2, name="out")(odd)).save(tmp_path / "lam.keras")
    window, prompts = make_window()
    prompts.save_changes[:] = ["discard"]
    assert "&Import…" in [a.text() for a in window.menuBar().actions()[0].menu().actions()]

    report = run_import(window, {"source": tmp_path / "lam.keras", "out_path": tmp_path / "p.loom"})
    assert [cls for _, cls, _ in report.placeholders] == ["Lambda"]
    dialog = ImportReportDialog(report, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.grab().save(str(png_dir() / "import_report.png"))

    assert window.open_document(report.path)
    names = {node.name for node in window.document.graph.nodes()}
    assert names == {"x", "hidden", "doubled", "out"}
    assert not window.document.graph.by_name("hidden").trainable  # frozen in the file
    window.update_status()
    assert window.problems_button.text() == "⚠ 1 placeholder: cannot compile"
    window.resize(1000, 700)
    window.view.fit()
    window.grab().save(str(png_dir() / "import_opened.png"))
    assert Path(report.path).exists()
