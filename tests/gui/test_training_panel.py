"""The training panel and window driven through a fake orchestrator (no backend, no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.helpers import png_dir
from tests.gui.training_fakes import FakeService, synthetic_run


def new_document(tmp_path):
    from layerloom.app.gui.document import Document

    return Document.new(tmp_path / "panel.loom", "mlp_classifier")


@pytest.fixture
def saved_document(tmp_path):
    """A saved project for a bare panel (a window owns and closes its own: see new_document)."""
    document = new_document(tmp_path)
    yield document
    document.close()


@pytest.fixture
def make_panel(qtbot, saved_document):
    from layerloom.app.gui.training.panel import TrainingPanel

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
    from layerloom.nodes.errors import DatasetError

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
    """Renders training_panel(_dark).png (into png_dir()): a 12-epoch run beside earlier ones."""

    from layerloom.app.gui.theme import apply_theme

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
        out = png_dir()
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
    assert run == [
        "&Train", "&Stop", "&Resume", "&Evaluate", "Export &TensorBoard Logs…", "Re&motes…"
    ]  # fmt: skip
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
