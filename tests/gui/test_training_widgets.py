"""Training widgets fed with synthetic worker events: plots, progress, runs, evaluation, settings."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from layerloom.app.gui.training.evaluation import EvaluationView, confusion_matrix, per_class
from layerloom.app.gui.training.events import epoch_rows, metrics_of
from layerloom.app.gui.training.plots import MetricPlots, Series
from layerloom.app.gui.training.progress import ProgressStrip, format_duration
from layerloom.app.gui.training.runs_table import RunsTable
from layerloom.app.gui.training.settings_form import SettingsForm
from layerloom.nodes import training
from tests.gui.training_fakes import synthetic_run


@pytest.fixture
def plots(qtbot):
    widget = MetricPlots()
    qtbot.addWidget(widget)
    widget.timer.stop()  # tests flush explicitly
    return widget


# --- events -----------------------------------------------------------------------------------
def test_metrics_are_read_from_nested_or_flat_events_and_non_numbers_dropped():
    assert metrics_of({"type": "epoch", "metrics": {"loss": 0.5, "x": None}}) == {"loss": 0.5}
    assert metrics_of({"type": "epoch", "epoch": 2, "seq": 4, "loss": 1}) == {"loss": 1.0}
    assert metrics_of({"type": "batch", "metrics": {"loss": float("nan")}}) == {}


def test_epoch_rows_accepts_events_long_rows_and_wide_rows():
    events = synthetic_run(epochs=2, steps=3)
    assert epoch_rows(events)["val_loss"][0] == [1, 2]
    long = [{"epoch": e, "name": "loss", "value": 1 / e} for e in (1, 2, 3)]
    long.append({"epoch": 1, "step": 5, "name": "loss", "value": 9.0, "scope": "batch"})
    assert epoch_rows(long) == {"loss": ([1, 2, 3], [1.0, 0.5, 1 / 3])}
    assert epoch_rows([{"epoch": 1, "loss": 0.3}]) == {"loss": ([1], [0.3])}


# --- plots ------------------------------------------------------------------------------------
def test_series_grows_geometrically_and_keeps_values():
    series = Series(2, capacity=2)
    for i in range(100):
        series.append(i, i * 2)
    assert len(series) == 100
    assert len(series.data) == 128
    assert series.column(1)[-1] == 198


def test_curves_get_one_point_per_epoch_and_per_batch_event(plots):
    plots.add_events(synthetic_run(epochs=3, steps=20, every=5))
    assert plots.curve_points("loss") == 0  # buffered only: nothing drawn before a frame
    plots.flush()
    assert plots.curve_points("loss", "train") == 3
    assert plots.curve_points("loss", "val") == 3
    assert plots.curve_points("loss", "batch") == 12
    assert plots.curve_points("accuracy", "val") == 3
    assert set(plots.plots) == {"loss", "accuracy"}
    x, _y = plots.plots["loss"].batch.getOriginalDataset()
    assert x[0] == pytest.approx(0.25)  # epoch 1, step 5 of 20
    plots.x_axis.setCurrentIndex(1)  # steps
    x, _y = plots.plots["loss"].train.getOriginalDataset()
    assert list(x) == [20, 40, 60]
    frames = plots.frames
    plots.flush()
    assert plots.frames == frames  # nothing changed: no setData


def test_a_new_run_clears_the_live_curves(plots):
    plots.add_events(synthetic_run(epochs=3))
    plots.flush()
    plots.add_events(synthetic_run(epochs=1)[:2])
    plots.flush()
    assert plots.curve_points("loss", "train") == 0
    assert plots.curve_points("loss", "batch") == 1


def test_a_resumed_run_continues_the_earlier_runs_curve(plots):
    earlier = synthetic_run(epochs=3, steps=10)
    plots.set_history(earlier)
    resumed = synthetic_run(epochs=5, steps=10)
    resumed[0].update(initial_epoch=2, initial_step=20)  # resumed from the epoch-2 checkpoint
    plots.add_events([resumed[0]] + [e for e in resumed if e.get("epoch", 0) >= 3])
    plots.flush()
    x, _y = plots.plots["loss"].train.getOriginalDataset()
    assert list(x) == [1, 2, 3, 4, 5]  # the earlier run's epoch 3 is not drawn twice
    plots.x_axis.setCurrentIndex(1)
    x, _y = plots.plots["loss"].train.getOriginalDataset()
    assert list(x) == [10, 20, 30, 40, 50]


def test_100k_batch_events_are_buffered_and_flushed(plots):
    plots.add_event(synthetic_run(epochs=1, steps=1)[0] | {"steps_per_epoch": 100_000})
    metrics = {"loss": 0.5, "accuracy": 0.9}
    for step in range(1, 100_001):
        plots.add_event(
            {"type": "batch", "epoch": 1, "step": step, "global_step": step, "metrics": metrics}
        )
    plots.log_scale.setChecked(True)
    plots.flush()
    assert plots.curve_points("loss", "batch") == 100_000
    curve = plots.plots["loss"].batch
    assert curve.opts["autoDownsample"] and curve.opts["clipToView"]
    assert curve.opts["pen"].width() <= 1
    plots.resize(900, 300)
    assert not plots.grab().isNull()


def test_overlay_of_two_runs_draws_each_runs_curves_and_returns_to_live(plots, qtbot):
    plots.add_events(synthetic_run(epochs=2))
    plots.flush()
    runs = {
        7: synthetic_run(epochs=4),
        9: [{"epoch": e, "name": "loss", "value": 1 / e} for e in (1, 2)],
    }
    with qtbot.waitSignal(plots.mode_changed):
        plots.show_runs(runs)
    assert plots.mode == "overlay"
    assert plots.overlay_curves("loss") == 3  # run 7 train + val, run 9 train
    assert plots.overlay_curves("accuracy") == 2
    assert not plots.plots["loss"].train.isVisible()
    assert "run 7" in plots.legend.text() and "run 9" in plots.legend.text()
    plots.show_live()
    assert plots.overlay_curves("loss") == 0
    assert plots.plots["loss"].train.isVisible()
    assert plots.curve_points("loss", "train") == 2


# --- progress ---------------------------------------------------------------------------------
def test_progress_strip_follows_a_run_and_its_buttons(qtbot):
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    events = synthetic_run(epochs=4, steps=10)
    for event in events[:16]:  # started, 10 batches, epoch 1, 4 batches of epoch 2
        strip.add_event(event)
    texts = strip.texts()
    assert texts["status"] == "Training"
    assert texts["epoch"] == "Epoch 2 / 4"
    assert texts["step"] == "step 4 / 10"
    assert texts["eta"].startswith("ETA ")
    assert "samples/s" in texts["rate"]
    assert not strip.train_button.isEnabled() and strip.stop_button.isEnabled()
    with qtbot.waitSignal(strip.stop_requested):
        strip.stop_button.click()
    strip.add_event({"seq": 99, "type": "failed", "time": 1.0, "reason": "out of memory"})
    assert strip.texts()["status"] == "Failed: out of memory"
    assert strip.train_button.isEnabled()
    strip.set_can_resume(True)
    with qtbot.waitSignal(strip.resume_requested):
        strip.resume_button.click()


def test_durations_read_naturally():
    assert format_duration(5) == "5 s"
    assert format_duration(125) == "2 min 05 s"
    assert format_duration(3 * 3600 + 60) == "3 h 01 min"


# --- runs table -------------------------------------------------------------------------------
RUNS = [
    {
        "id": 1,
        "status": "finished",
        "graph_version_id": 2,
        "settings": {"optimizer": "adam", "learning_rate": 0.001, "epochs": 5},
        "best": {"loss": 0.30, "val_loss": 0.35, "val_accuracy": 0.90},
        "duration": 65,
    },
    {
        "id": 2,
        "status": "failed",
        "graph_version_id": 3,
        "settings": {"optimizer": "sgd"},
        "best": {"loss": 0.80},
        "duration": 4,
        "reason": "out of memory",
    },
    {
        "id": 3,
        "status": "cancelled",
        "graph_version_id": 3,
        "best": {"loss": 0.10, "val_loss": 0.20, "val_accuracy": 0.95},
        "started_at": "2026-11-20T10:00:00+00:00",
        "finished_at": "2026-11-20T10:02:00+00:00",
    },
]


def shown_ids(table: RunsTable) -> list:
    return [table.proxy.index(row, 0).data(Qt.ItemDataRole.UserRole + 1) for row in range(3)]


def test_runs_table_sorts_by_metric_and_emits_selected_ids(qtbot):
    table = RunsTable()
    qtbot.addWidget(table)
    table.set_runs(RUNS)
    headers = table.model.headers()
    assert headers[:2] == ["Run", "Status"]
    assert headers[2:5] == ["loss", "val_loss", "val_accuracy"]
    assert headers[5:] == ["Duration", "Backend", "Host", "Graph", "Settings", "Started"]
    assert shown_ids(table) == [3, 2, 1]  # newest first
    table.view.sortByColumn(headers.index("loss"), Qt.SortOrder.AscendingOrder)
    assert shown_ids(table) == [3, 1, 2]
    table.view.sortByColumn(headers.index("val_accuracy"), Qt.SortOrder.DescendingOrder)
    assert shown_ids(table) == [3, 1, 2]  # run 2 has none: last either way
    table.view.sortByColumn(headers.index("Duration"), Qt.SortOrder.AscendingOrder)
    assert shown_ids(table) == [2, 1, 3]
    assert table.proxy.index(2, headers.index("Duration")).data() == "2 min 00 s"

    with qtbot.waitSignal(table.selection_changed) as blocker:
        table.select([1, 3])
    assert sorted(blocker.args[0]) == [1, 3]
    table.view.clearSelection()
    with qtbot.waitSignal(table.selection_changed) as blocker:
        rect = table.view.visualRect(table.proxy.index(0, 0))
        from PySide6.QtTest import QTest

        QTest.mouseClick(table.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[0] == [2]
    table.set_runs(RUNS)  # a refresh keeps the selection
    assert table.selected_ids() == [2]


# --- evaluation -------------------------------------------------------------------------------
def test_confusion_matrix_and_per_class_scores():
    matrix = confusion_matrix([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    scores = per_class(matrix, ["a", "b", "c"])
    assert scores[1]["precision"] == pytest.approx(2 / 3)
    assert scores[1]["recall"] == 1.0
    assert scores[2]["f1"] == 0.0


def test_clicking_a_confusion_cell_emits_the_pair_and_lists_its_samples(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(800, 400)
    view.show()
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 0])
    probs = np.full((7, 3), 0.1)
    probs[np.arange(7), y_pred] = [0.8, 0.6, 0.9, 0.7, 0.8, 0.55, 0.95]
    view.set_classification(y_true, y_pred, probs, class_names=["cat", "dog", "fox"])
    assert view.report["accuracy"] == pytest.approx(4 / 7)
    assert "accuracy 57.14%" in view.heading.text()
    assert view.classes.rowCount() == 3
    index = view.matrix.model().index(2, 0)
    assert index.data() == "2"
    with qtbot.waitSignal(view.cell_chosen) as blocker:
        from PySide6.QtTest import QTest

        rect = view.matrix.visualRect(index)
        QTest.mouseClick(view.matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [2, 0]
    assert sorted(view.predictions.shown_indices()) == [5, 6]
    assert "true fox, predicted cat: 2 samples" in view.cell_label.text()
    view.show_all_predictions()
    shown = view.predictions.shown_indices()
    assert len(shown) == 7 and shown[0] == 6  # the most confident mistake has the highest loss


def test_evaluation_shows_worker_reports_for_both_tasks(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    view.set_report(
        {
            "task": "classification",
            "samples": 4,
            "accuracy": 0.75,
            "classes": ["no", "yes"],
            "confusion_matrix": [[2, 0], [1, 1]],
            "per_class": per_class(np.array([[2, 0], [1, 1]]), ["no", "yes"]),
        },
        title="Run #4",
    )
    assert view.pages.currentIndex() == 1
    assert view.heading.text() == "Run #4 · 4 samples · accuracy 75.00%"
    view.set_report(
        {
            "task": "regression",
            "samples": 3,
            "mae": 0.1,
            "rmse": 0.2,
            "r2": 0.9,
            "pairs": [[1, 1.1]],
        }
    )
    assert view.pages.currentIndex() == 2
    assert "R² 0.9" in view.heading.text()
    view.set_regression([1.0, 2.0, 3.0], [1.5, 2.0, 2.0])
    assert view.regression_predictions.shown_indices()[0] == 2  # largest error first
    assert len(view.scatter.data) == 3


# --- settings form ----------------------------------------------------------------------------
def test_settings_form_is_generated_from_the_training_params_and_stores_valid_edits(qtbot):
    stored = []
    form = SettingsForm({"epochs": 3}, on_change=stored.append)
    qtbot.addWidget(form)
    assert set(form.editors) == {p.name for p in training.SETTINGS}
    assert form.values()["epochs"] == 3
    assert form.editors["epochs"].spin.value() == 3

    form.editors["batch_size"].spin.setValue(64)  # as if typed
    assert stored[-1]["batch_size"] == 64
    assert training.resolve(stored[-1])["batch_size"] == 64

    form.editors["optimizer"].combo.setCurrentText("sgd")
    assert stored[-1]["optimizer"] == "sgd"

    count = len(stored)
    assert form.edit("metrics", "accuracy, bogus")  # invalid: problems, nothing stored
    assert len(stored) == count
    assert not form.problems_label.isHidden()
    assert "bogus" in form.problems_label.text()
    assert form.edit("metrics", "accuracy") == []
    assert stored[-1]["metrics"] == "accuracy"
    assert form.problems_label.isHidden()

    form.reset_to_defaults()
    assert stored[-1] == training.DEFAULTS
