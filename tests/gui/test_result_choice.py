"""The GUI's defaults follow the same rule as the CLI: Export and Evaluate start from the best
finished run of the current graph and say why; a finished run logs its best epoch and that run;
a regression run evaluates to MAE/RMSE/R² and a predicted-against-true plot. Real runs trained by
the real CLI in subprocesses, real evaluation workers, screenshots to look at."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.app.gui.document import Document
from layerloom.app.workbench import create_project
from layerloom.nodes.graph import Graph
from tests.gui.helpers import png_dir
from tests.nodes.builders import add, link

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
    ),
]

LAYERLOOM = Path(sys.executable).parent / "layerloom"
WORKER_TIMEOUT_MS = 120_000


def cli_train(path: Path, *extra: str) -> None:
    result = subprocess.run(
        [str(LAYERLOOM), "train", str(path), *extra], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    """Run 1 learns; run 2, the newest, barely moves (a tiny learning rate)."""
    path = tmp_path_factory.mktemp("choice") / "choice.loom"
    create_project(path, "mlp_classifier").close()
    cli_train(path, "--epochs", "2", "--lr", "0.003")
    cli_train(path, "--epochs", "1", "--lr", "0.000001")
    return path


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory) -> Path:
    from layerloom.nodes.registry import default_registry

    registry = default_registry()
    graph = Graph()
    chain = [
        add(graph, registry, "keras.Input", "features", shape=(8,)),
        add(graph, registry, "Dense", "hidden", units=32, activation="relu"),
        add(graph, registry, "Dense", "value", units=1),
    ]
    for src, dst in zip(chain, chain[1:], strict=False):
        link(graph, src, dst)
    path = tmp_path_factory.mktemp("regression") / "regression.loom"
    opened = create_project(path)
    opened.graph = graph
    opened.save("a regression MLP")
    opened.project.set_setting("dataset", {"kind": "sample", "name": "regression"})
    opened.close()
    cli_train(path, "--epochs", "15", "--lr", "0.01")
    return path


def test_export_starts_from_the_best_run_and_says_why(two_runs, make_window, qtbot) -> None:
    window, _ = make_window(Document.open(two_runs))
    dialog = window.export_model()
    dialog.show()
    qtbot.waitExposed(dialog)
    assert [run.id for run in dialog.runs] == [2, 1]  # newest first, as before
    assert dialog.current_run().id == 1  # but the default is the best, not the newest
    assert dialog.run_note.isVisible()
    assert dialog.run_note.text().startswith(
        "Default: run 1 (the best finished run of the current graph: val_loss "
    )
    dialog.grab().save(str(png_dir() / "export_default_run.png"))
    dialog.run_combo.setCurrentIndex(0)  # the user picks run 2: the note is about run 1 only
    assert dialog.current_run().id == 2 and not dialog.run_note.isVisible()
    dialog.close()


def test_a_finished_run_logs_its_best_epoch_and_the_run_evaluate_and_export_use(two_runs):
    from layerloom.app.gui.training.service import TrainingService

    document = Document.open(two_runs)
    try:
        lines = TrainingService().result_lines(document.opened, 2)
    finally:
        document.opened.close()
    assert lines[0].startswith("run #2: best epoch 1 of 1: ") and "val_loss" in lines[0]
    assert " lr " not in lines[0]
    assert lines[1].startswith("Evaluate and Export use run 1 (the best finished run of the")


def test_evaluate_with_nothing_selected_uses_the_best_run(two_runs, make_window, qtbot) -> None:
    window, prompts = make_window(Document.open(two_runs))
    panel = window.training
    assert panel.runs.selected_ids() == []
    assert panel.can_evaluate() and window.act.evaluate_run.isEnabled()
    assert panel.evaluate()
    assert panel.evaluating == "best"
    qtbot.waitUntil(lambda: panel.evaluating is None, timeout=WORKER_TIMEOUT_MS)
    log = panel.log.toPlainText()
    assert "evaluated run 1 (the best finished run of the current graph: val_loss" in log, log
    assert panel.evaluation.heading.text().startswith("Run #1")
    assert panel.evaluation.pages.currentIndex() == 1  # a confusion matrix: classification
    assert prompts.errors == []


def test_a_regression_run_evaluates_to_errors_and_a_scatter(
    regression_run, make_window, qtbot
) -> None:
    window, prompts = make_window(Document.open(regression_run))
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    panel = window.training
    panel.runs.select([1])
    assert panel.evaluate()
    qtbot.waitUntil(lambda: panel.evaluating is None, timeout=WORKER_TIMEOUT_MS)
    view = panel.evaluation
    report = view.report
    assert report["task"] == "regression", view.heading.text()
    assert view.pages.currentIndex() == 2  # the scatter page, not a confusion matrix
    heading = view.heading.text()
    assert "MAE" in heading and "RMSE" in heading and "R²" in heading
    assert report["r2"] > 0.8 and report["mae"] < report["rmse"] * 1.01
    xs, ys = view.scatter.getData()
    assert len(xs) == report["samples"] == 200  # every validation example is a point
    assert {"loss", "mae"} <= set(report["metrics"])  # Keras' own figures too
    window.focus_panel("training")
    qtbot.wait(100)
    window.grab().save(str(png_dir() / "regression_evaluation.png"))
    assert prompts.errors == []
