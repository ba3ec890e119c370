"""Training panel widgets fed with synthetic worker events (no backend, no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.gui.training.evaluation import EvaluationView, confusion_matrix, per_class
from app.gui.training.events import epoch_rows, metrics_of
from app.gui.training.plots import MetricPlots, Series
from app.gui.training.progress import ProgressStrip, format_duration
from app.gui.training.runs_table import RunsTable
from app.gui.training.settings_form import SettingsForm
from nodes import training


def synthetic_run(epochs=3, steps=20, every=1, val=True, start=1000.0, seq=1):
    """Events as ``backends.protocol`` describes them: 1-based epochs and steps."""
    events = [
        {
            "seq": seq,
            "type": "started",
            "time": start,
            "kind": "train",
            "params": 1234,
            "devices": ["cpu"],
            "steps_per_epoch": steps,
            "samples": {"train": steps * 32, "validation": 64},
            "epochs": epochs,
            "initial_epoch": 0,
            "initial_step": 0,
        }
    ]
    t, global_step = start, 0
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            global_step += 1
            t += 0.01
            if step % every == 0:
                loss = 1.0 / (epoch + step / steps)
                events.append(
                    {
                        "type": "batch",
                        "time": t,
                        "epoch": epoch,
                        "step": step,
                        "global_step": global_step,
                        "metrics": {"loss": loss, "accuracy": 1 - loss / 2},
                        "samples_per_second": 3200.0,
                    }
                )
        metrics = {"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + 0.1 * epoch}
        if val:
            metrics.update(val_loss=1.1 / (epoch + 1), val_accuracy=0.45 + 0.1 * epoch)
        events.append(
            {
                "type": "epoch",
                "time": t,
                "epoch": epoch,
                "global_step": global_step,
                "metrics": metrics,
                "lr": 0.001,
                "seconds": steps * 0.01,
            }
        )
    events.append(
        {
            "type": "finished",
            "time": t + 0.1,
            "status": "finished",
            "metrics": events[-1]["metrics"],
            "best_epoch": epochs,
        }
    )
    for number, event in enumerate(events, start=seq):
        event["seq"] = number
    return events


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
    assert headers[5:] == ["Duration", "Graph", "Settings", "Started"]
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


# --- the panel, driven through a fake orchestrator --------------------------------------------
class FakeSession:
    """Replays scripted events like a worker would, a few per poll."""

    def __init__(self, run_id, events, per_poll=40):
        self.run_id = run_id
        self.pending = list(events)
        self.recorded: list[dict] = []
        self.per_poll = per_poll
        self.cancelled = self.closed = False

    @property
    def done(self):
        return bool(self.recorded) and self.recorded[-1]["type"] in ("finished", "failed")

    def poll(self):
        chunk, self.pending = self.pending[: self.per_poll], self.pending[self.per_poll :]
        self.recorded += chunk
        return chunk

    def cancel(self):
        self.cancelled = True
        batch = [e for e in self.pending if e["type"] == "batch"][:1]  # the batch in flight
        seq = (self.recorded or batch or [{"seq": 1}])[-1]["seq"] + 1
        end = {"seq": seq, "type": "finished", "time": 0.0, "status": "cancelled"}
        self.pending = batch + [end | {"metrics": {}, "best_epoch": None}]

    def close(self):
        self.closed = True


class FakeService:
    def __init__(self, script=None, per_poll=40):
        self.script = script or (lambda run_id: synthetic_run(epochs=3, steps=20, every=5))
        self.per_poll = per_poll
        self.sessions: list[FakeSession] = []
        self.started: list[tuple] = []
        self.stored: list[dict] = []
        self.refuse: Exception | None = None
        self.evaluated: list[tuple] = []

    def load_settings(self, opened):
        return dict(training.DEFAULTS), None

    def save_settings(self, opened, values):
        self.stored.append(dict(values))

    def start(self, opened, settings=None, resume_run_id=None):
        if self.refuse is not None:
            raise self.refuse
        run_id = len(self.sessions) + 1
        self.started.append((run_id, settings, resume_run_id))
        session = FakeSession(run_id, self.script(run_id), self.per_poll)
        self.sessions.append(session)
        return session

    def runs(self, opened):
        out = []
        for session in self.sessions:
            last = session.recorded[-1] if session.recorded else {}
            status = "running"
            if last.get("type") == "finished":
                status = last["status"]
            elif last.get("type") == "failed":
                status = "failed"
            epochs = [e for e in session.recorded if e["type"] == "epoch"]
            out.append(
                {
                    "id": session.run_id,
                    "status": status,
                    "graph_version_id": 1,
                    "settings": {"optimizer": "adam", "learning_rate": 0.001, "epochs": 3},
                    "best": epochs[-1]["metrics"] if epochs else {},
                    "epochs": len(epochs),
                    "duration": 12.5 * session.run_id,
                    "error": last.get("reason"),
                }
            )
        return out

    def epoch_metrics(self, opened, run_ids):
        by_id = {s.run_id: s for s in self.sessions}
        return {
            run_id: [e for e in by_id[run_id].recorded if e["type"] == "epoch"]
            for run_id in run_ids
        }

    def evaluate_async(self, path, run_id, split, done):
        self.evaluated.append((run_id, split))
        from PySide6.QtCore import QTimer

        report = {
            "task": "classification",
            "split": split,
            "samples": 300,
            "accuracy": 0.9,
            "classes": ["a", "b", "c"],
            "confusion_matrix": [[90, 8, 2], [5, 92, 3], [4, 8, 88]],
        }
        QTimer.singleShot(10, lambda: done(report, None))


def new_document(tmp_path):
    from app.gui.document import Document

    return Document.new(tmp_path / "panel.loom", "mlp_classifier")


@pytest.fixture
def saved_document(tmp_path):
    """A saved project for a bare panel (a window owns and closes its own: see new_document)."""
    document = new_document(tmp_path)
    yield document
    document.close()


@pytest.fixture
def make_panel(qtbot, saved_document):
    from app.gui.training.panel import TrainingPanel

    def make(service):
        panel = TrainingPanel(saved_document, service=service)
        qtbot.addWidget(panel)
        panel.resize(1400, 520)
        return panel

    return make


def test_panel_trains_records_and_shows_the_run(make_panel, qtbot):
    service = FakeService()
    panel = make_panel(service)
    panel.form.edit("epochs", 3)
    with qtbot.waitSignal(panel.run_finished, timeout=5000) as finished:
        assert panel.start()
        assert panel.running and not panel.progress.train_button.isEnabled()
    assert finished.args == [1]
    assert not panel.running
    assert service.stored[-1]["epochs"] == 3
    assert service.sessions[0].closed
    assert panel.plots.curve_points("loss", "train") == 3
    assert panel.plots.curve_points("loss", "batch") == 12
    assert panel.progress.texts()["status"] == "Finished"
    assert panel.progress.texts()["epoch"] == "Epoch 3 / 3"
    assert panel.runs.model.runs[0]["status"] == "finished"
    log = panel.log.toPlainText()
    assert "started: 1,234 parameters" in log and "epoch 3: loss" in log


def test_stop_cancels_after_the_batch_and_resume_continues_the_selected_run(make_panel, qtbot):
    service = FakeService(lambda run_id: synthetic_run(epochs=5, steps=50), per_poll=5)
    panel = make_panel(service)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.progress.state == "running")
    assert not panel.can_resume()
    panel.stop()
    assert service.sessions[0].cancelled
    assert panel.progress.texts()["status"].startswith("Stopping")
    qtbot.waitUntil(lambda: not panel.running)
    assert panel.progress.texts()["status"] == "Stopped"
    assert panel.runs.model.runs[0]["status"] == "cancelled"

    service.script = lambda run_id: synthetic_run(epochs=2, steps=5)
    panel.runs.select([1])
    assert panel.plots.mode == "overlay"
    assert panel.can_resume() and panel.progress.resume_button.isEnabled()
    with qtbot.waitSignal(panel.run_finished, timeout=5000):
        panel.progress.resume_button.click()
    assert service.started[-1] == (2, None, 1)
    assert panel.plots.mode == "live"
    # run 1 was stopped in its first epoch: no earlier epochs to draw, only the new run's two
    assert panel.plots.curve_points("loss", "train") == 2


def test_a_worker_crash_shows_its_reason_and_the_panel_stays_usable(make_panel, qtbot):
    def crash(run_id):
        events = synthetic_run(epochs=2, steps=10)[:8]
        seq = events[-1]["seq"] + 1
        reason = "the training process crashed (SIGSEGV)"
        return events + [{"seq": seq, "type": "failed", "time": 0.0, "reason": reason}]

    service = FakeService(crash)
    panel = make_panel(service)
    with qtbot.waitSignal(panel.run_finished, timeout=5000):
        panel.start()
    assert panel.progress.texts()["status"] == "Failed: the training process crashed (SIGSEGV)"
    assert panel.runs.model.runs[0]["status"] == "failed"
    assert "failed: the training process crashed" in panel.log.toPlainText()
    assert panel.progress.train_button.isEnabled()
    service.script = lambda run_id: synthetic_run(epochs=1, steps=4)
    with qtbot.waitSignal(panel.run_finished, timeout=5000):
        assert panel.start()
    assert panel.progress.texts()["status"] == "Finished"


def test_a_refused_start_records_nothing_and_says_why(make_panel):
    from nodes.errors import DatasetError

    service = FakeService()
    service.refuse = DatasetError("panel.loom has no dataset; set one with `layerloom data`")
    panel = make_panel(service)
    assert not panel.start()
    assert not panel.running
    assert panel.progress.texts()["status"].startswith("Not started: panel.loom has no dataset")
    panel.form.edit("metrics", "bogus")
    service.refuse = None
    assert not panel.start()
    assert "Fix the settings first" in panel.progress.texts()["status"]
    assert service.started == []


def test_selecting_runs_overlays_them_and_evaluate_shows_the_report(make_panel, qtbot):
    service = FakeService()
    panel = make_panel(service)
    for _ in range(2):
        with qtbot.waitSignal(panel.run_finished, timeout=5000):
            panel.start()
    panel.runs.select([1, 2])
    assert panel.plots.mode == "overlay"
    assert panel.plots.overlay_curves("loss") == 4
    assert not panel.can_evaluate()  # one run at a time
    panel.runs.select([2])
    assert panel.evaluate_button.isEnabled()
    panel.split.setCurrentText("test")
    panel.evaluate_button.click()
    qtbot.waitUntil(lambda: panel.evaluation.pages.currentIndex() == 1)
    assert service.evaluated == [(2, "test")]
    assert panel.tabs.currentWidget() is panel.evaluation
    assert panel.evaluation.heading.text() == "Run #2 · test split · 300 samples · accuracy 90.00%"
    panel.runs.select([])
    assert panel.plots.mode == "live"


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_render_the_panel_after_a_run(make_panel, qtbot, qapp, dark):
    """Renders test-artifacts/training_panel(_dark).png: a 12-epoch run beside earlier ones."""
    from pathlib import Path

    from app.gui.theme import apply_theme

    rng = np.random.default_rng(3)

    def realistic(run_id, epochs=12, steps=60):
        events = synthetic_run(epochs=epochs, steps=steps, every=2)
        scale = 1.0 + 0.2 * (2 - run_id)  # later runs do a little better
        for event in events:
            metrics = event.get("metrics")
            if event["type"] == "batch":
                progress = event["global_step"] / (epochs * steps)
                loss = scale * (1.05 * np.exp(-3.2 * progress) + 0.08) + rng.normal(0, 0.03)
                metrics.update(loss=loss, accuracy=min(0.99, 1 - loss * 0.55))
            elif event["type"] == "epoch":
                progress = event["epoch"] / epochs
                loss = scale * (1.05 * np.exp(-3.2 * progress) + 0.08)
                metrics.update(
                    loss=loss,
                    accuracy=1 - loss * 0.55,
                    val_loss=loss * 1.1 + 0.03 * progress,
                    val_accuracy=1 - loss * 0.62,
                )
        return events

    apply_theme(qapp, dark=dark)
    try:
        service = FakeService(realistic, per_poll=400)
        panel = make_panel(service)
        panel.resize(1400, 560)
        panel.form.edit("epochs", 12)
        for _ in range(3):
            with qtbot.waitSignal(panel.run_finished, timeout=10_000):
                panel.start()
        panel.show()
        qtbot.waitExposed(panel)
        qtbot.wait(100)  # let the layout settle before grabbing
        out = Path(__file__).resolve().parents[2] / "test-artifacts"
        out.mkdir(exist_ok=True)
        png = out / ("training_panel_dark.png" if dark else "training_panel.png")
        assert panel.grab().save(str(png))
        panel.runs.select([1, 3])  # compare two runs
        panel.evaluate(3)
        qtbot.waitUntil(lambda: panel.evaluating is None)
        panel.tabs.setCurrentWidget(panel.plots)
        qtbot.wait(50)
        if not dark:
            assert panel.grab().save(str(out / "training_panel_compare.png"))
    finally:
        qapp.setStyleSheet("")
        qapp.setPalette(qapp.style().standardPalette())


# --- the main window ----------------------------------------------------------------------------
def test_the_window_has_a_training_dock_and_a_run_menu(make_window, qtbot, tmp_path):
    window, _prompts = make_window(new_document(tmp_path))
    assert window._training is None  # built on first use: start-up does not import pyqtgraph
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    run = [a.text() for a in menus["&Run"].actions() if not a.isSeparator()]
    assert run == ["&Train", "&Stop", "&Resume", "&Evaluate"]
    assert window.act.train.shortcut().toString() == "F5"
    assert window.act.stop_training.shortcut().toString() == "Shift+F5"
    assert window.act.train.isEnabled() and not window.act.stop_training.isEnabled()
    assert not window.act.resume_training.isEnabled()

    window.focus_panel("training")
    panel = window.training
    assert window.docks["training"].widget().layout().itemAt(0).widget() is panel
    panel.service = FakeService(per_poll=5)
    window.act.train.trigger()
    assert window.act.stop_training.isEnabled() and not window.act.train.isEnabled()
    qtbot.waitUntil(lambda: not panel.running)
    assert window.act.train.isEnabled() and not window.act.stop_training.isEnabled()
    assert window.statusBar().currentMessage() == "Run #1 finished"
    panel.runs.select([1])
    assert window.act.resume_training.isEnabled() and window.act.evaluate_run.isEnabled()


def test_training_an_untitled_template_saves_it_first_and_keeps_its_sample(
    make_window, qtbot, tmp_path
):
    window, prompts = make_window()
    prompts.templates.append("mlp_classifier")
    assert window.new_document()
    window.training.service = FakeService()
    prompts.save_paths.append(str(tmp_path / "untitled"))
    assert window.train()
    assert prompts.asked == ["template", "save_path"]
    assert window.document.path == tmp_path / "untitled.loom"
    assert window.document.opened.project.get_setting("template") == "mlp_classifier"
    qtbot.waitUntil(lambda: not window.training.running)


def test_closing_while_training_stops_the_run_cleanly(make_window, qtbot, tmp_path):
    window, _prompts = make_window(new_document(tmp_path))
    service = FakeService(lambda run_id: synthetic_run(epochs=5, steps=200), per_poll=3)
    window.training.service = service
    asked = []
    window.ask_stop_training = lambda: asked.append(True) or True
    assert window.train()
    assert window.close()
    assert asked == [True]
    assert service.sessions[0].cancelled and service.sessions[0].closed
    assert service.runs(None)[0]["status"] == "cancelled"
