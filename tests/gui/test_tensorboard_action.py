"""Run ▸ Export TensorBoard Logs…: a trained project's runs as TensorBoard logs, from the menu."""

from __future__ import annotations

import pytest

from layerloom.app.gui import tensorboard_action
from layerloom.app.gui.document import Document
from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.training import start_run
from tests.gui.helpers import png_dir

pytestmark = pytest.mark.keras


def test_the_run_menu_writes_tensorboard_logs(make_window, tmp_path, qtbot, monkeypatch) -> None:
    path = tmp_path / "menü.loom"
    create_project(path, "mlp_classifier").close()
    with open_project(path) as opened:
        session = start_run(opened, {"epochs": 1, "batch_size": 64})
        try:
            assert session.wait() == "finished"
        finally:
            session.close()
    window, prompts = make_window(Document.open(path))
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    action = window.act.export_tensorboard
    assert action in run_menu.actions() and action.isEnabled()
    run_menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitExposed(run_menu)
    run_menu.grab().save(str(png_dir() / "run_menu_tensorboard.png"))
    run_menu.hide()

    out = tmp_path / "tb logs"
    asked = []
    monkeypatch.setattr(
        tensorboard_action, "ask_log_folder", lambda _w, start: asked.append(start) or str(out)
    )
    action.trigger()
    assert asked == [tmp_path / "tensorboard"]
    assert "Writing TensorBoard logs" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: "written to" in window.statusBar().currentMessage(), timeout=120000)
    assert prompts.errors == []
    assert "1 run written" in window.statusBar().currentMessage()
    assert any((out / "run-1" / "train").glob("events.out.tfevents.*"))
    assert any((out / "run-1" / "validation").glob("events.out.tfevents.*"))


def test_an_untitled_project_is_told_what_to_do(mlp_window, monkeypatch) -> None:
    window, prompts = mlp_window
    monkeypatch.setattr(tensorboard_action, "ask_log_folder", lambda *_: pytest.fail("asked"))
    assert tensorboard_action.export_tensorboard_logs(window) is None
    assert prompts.errors == [
        (
            tensorboard_action.TITLE,
            "This project has no runs yet: save it, then train it (Run ▸ Train).",
        )
    ]
