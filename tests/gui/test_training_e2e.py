"""End to end: the Training panel trains a template through the real worker subprocess.

Nothing heavy is shared with other tests: the project is this test's own, TensorFlow runs only in
the worker processes (never in the test process, unless another test imported it already), and
each worker is its own process. Marked ``keras`` (it needs TensorFlow installed) so a quick run can
leave it out with ``-m "not keras"``.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.gui.helpers import png_dir

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
    ),
]

WORKER_TIMEOUT_MS = 90_000


def test_train_evaluate_and_resume_mlp_classifier_from_the_window(make_window, qtbot, tmp_path):
    from layerloom.app.gui.document import Document
    from layerloom.app.workbench import training as workbench_training

    tensorflow_before = "tensorflow" in sys.modules
    document = Document.new(tmp_path / "mlp.loom", "mlp_classifier")
    window, prompts = make_window(document)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    panel = window.training
    panel.form.edit("epochs", 2)

    # Run > Train (F5)
    assert window.act.train.shortcut().toString() == "F5"
    assert window.act.train.isEnabled() and not window.act.stop_training.isEnabled()
    window.act.train.trigger()
    assert panel.running, panel.progress.texts()
    assert window.act.stop_training.isEnabled() and not window.act.train.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=WORKER_TIMEOUT_MS)
    assert prompts.errors == []
    assert panel.progress.texts()["status"] == "Finished", panel.log.toPlainText()

    # recorded in the project, by this (the only writing) process
    runs = workbench_training.runs(document.opened)
    assert [(r.status, r.epochs) for r in runs] == [("finished", 2)]
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(runs[0].final_metrics)
    rows = document.opened.project.conn.execute(
        "SELECT split, COUNT(*) FROM metrics WHERE run_id = ? GROUP BY split", [runs[0].id]
    ).fetchall()
    assert {split for split, _count in rows} >= {"batch", "train", "validation"}
    assert document.opened.project.get_setting("training") == {"epochs": 2}

    # the live curves and the runs table
    assert panel.plots.curve_points("loss", "train") == 2
    assert panel.plots.curve_points("loss", "val") == 2
    assert panel.plots.curve_points("loss", "batch") > 0
    assert panel.runs.model.runs[0]["status"] == "finished"
    assert "loss" in panel.runs.model.headers()
    assert ("tensorflow" in sys.modules) == tensorflow_before  # the GUI never imports it

    # Run > Evaluate on the selected run: off the GUI thread, then the confusion matrix
    panel.runs.select([runs[0].id])
    assert panel.plots.mode == "overlay" and panel.plots.overlay_curves("loss") == 2
    assert window.act.evaluate_run.isEnabled()
    window.act.evaluate_run.trigger()
    assert panel.evaluating == runs[0].id
    qtbot.waitUntil(lambda: panel.evaluating is None, timeout=WORKER_TIMEOUT_MS)
    assert panel.evaluation.pages.currentIndex() == 1, panel.evaluation.heading.text()
    assert panel.evaluation.matrix.model().rowCount() == 3
    assert "validation split" in panel.evaluation.heading.text()
    # clicking the "a predicted as a" cell lists exactly those samples, worst first
    matrix = panel.evaluation.report["confusion_matrix"]
    panel.evaluation.matrix.cell_chosen.emit(0, 0)
    assert len(panel.evaluation.predictions.shown_indices()) == matrix[0][0] > 0

    # Run > Resume: the finished run trains further (to the form's 3 epochs) as a new run
    panel.form.edit("epochs", 3)
    assert window.act.resume_training.isEnabled()
    window.act.resume_training.trigger()
    assert panel.running, panel.progress.texts()
    qtbot.waitUntil(lambda: not panel.running, timeout=WORKER_TIMEOUT_MS)
    runs = workbench_training.runs(document.opened)
    assert [(r.status, r.resumed_from) for r in runs] == [("finished", None), ("finished", 1)]
    assert runs[1].epochs == 3
    # the resumed run's curve continues the first run's two epochs
    assert panel.plots.curve_points("loss", "train") == 3
    x, _y = panel.plots.plots["loss"].train.getOriginalDataset()
    assert list(x) == [1, 2, 3]

    panel.tabs.setCurrentWidget(panel.plots)
    window.focus_panel("training")
    qtbot.wait(100)
    out = png_dir()
    out.mkdir(exist_ok=True)
    assert window.grab().save(str(out / "training_window_real.png"))


def test_a_worker_crash_is_shown_and_recorded_and_the_window_stays_up(
    make_window, qtbot, tmp_path, monkeypatch
):
    from layerloom.app.gui.document import Document
    from layerloom.app.workbench import training as workbench_training

    monkeypatch.setenv("LAYERLOOM_WORKER_CRASH_AFTER_BATCHES", "3")  # the worker's test hook
    document = Document.new(tmp_path / "crash.loom", "mlp_classifier")
    window, prompts = make_window(document)
    panel = window.training
    assert window.train()
    qtbot.waitUntil(lambda: not panel.running, timeout=WORKER_TIMEOUT_MS)
    status = panel.progress.texts()["status"]
    assert status.startswith("Failed: the training process crashed"), status
    assert [r.status for r in workbench_training.runs(document.opened)] == ["failed"]
    assert panel.runs.model.runs[0]["status"] == "failed"
    assert prompts.errors == []
    monkeypatch.delenv("LAYERLOOM_WORKER_CRASH_AFTER_BATCHES")
    assert window.act.train.isEnabled()  # and it can train again


def test_stop_ends_a_real_run_cancelled_and_resumable(make_window, qtbot, tmp_path):
    from layerloom.app.gui.document import Document
    from layerloom.app.workbench import training as workbench_training

    document = Document.new(tmp_path / "stop.loom", "mlp_classifier")
    window, _prompts = make_window(document)
    panel = window.training
    panel.form.edit("epochs", 500)  # far longer than the test waits
    assert window.train()
    qtbot.waitUntil(
        lambda: panel.plots.curve_points("loss", "train") >= 1, timeout=WORKER_TIMEOUT_MS
    )
    window.act.stop_training.trigger()  # Shift+F5
    qtbot.waitUntil(lambda: not panel.running, timeout=WORKER_TIMEOUT_MS)
    assert panel.progress.texts()["status"] == "Stopped"
    runs = workbench_training.runs(document.opened)
    assert [r.status for r in runs] == ["cancelled"]
    assert 1 <= runs[0].epochs < 500
    panel.runs.select([runs[0].id])
    assert window.act.resume_training.isEnabled()
