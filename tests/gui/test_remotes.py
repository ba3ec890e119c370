"""Remote training from the GUI, against a real OpenSSH server on 127.0.0.1 (tests/backends/sshd.py):
the Remotes dialog edits the user's remotes.toml and checks hosts off the GUI thread; the Training
panel's chooser trains on a remote; closing the window detaches a followed remote run, and the
runs table's Attach follows it again to its end. This environment's Python is the host's runtime.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from tests.backends.sshd import AVAILABLE, SSHServer

pytestmark = pytest.mark.skipif(
    not AVAILABLE, reason="OpenSSH (sshd, ssh) is not installed; installer/setup.sh installs it"
)
CHECK_MS = 60_000
TRAIN_MS = 120_000


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch):
    """Remotes are per user: each test has its own; and the GUI's remote states start empty."""
    from layerloom.app.gui.training import remote_state

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(remote_state, "_STATES", None)
    return tmp_path / "xdg" / "layerloom" / "remotes.toml"


def add_box(server: SSHServer, tmp_path: Path, name: str = "box", **overrides):
    from layerloom.app.workbench.remotes import add_remote

    settings = {
        "port": server.port,
        "user": server.user,
        "identity": str(server.user_key),
        "known_hosts": str(server.known_hosts),
        "python": sys.executable,
        "workdir": str(tmp_path / "host"),
        **overrides,
    }
    return add_remote(name, "127.0.0.1", **settings)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_remotes_dialog_adds_checks_and_removes_remotes(qtbot, server, tmp_path, user_config):
    from layerloom.app.gui.training.remotes_dialog import RemotesDialog

    dialog = RemotesDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.names() == [] and not dialog.check_button.isEnabled()

    form = dialog.add()
    form.name.setText("box")
    form.host.setText(f"{server.user}@127.0.0.1")
    form.port.setValue(server.port)
    form.identity.setText(str(server.user_key))
    form.known_hosts.setText(str(server.known_hosts))
    form.python.setText(sys.executable)
    form.workdir.setText(str(tmp_path / "host"))
    form.env.setText("A_SETTING=1")
    click(qtbot, form.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert not form.isVisible() and dialog.names() == ["box"]
    saved = user_config.read_text()
    assert (
        f"port = {server.port}" in saved and "A_SETTING" in saved and "BEGIN OPENSSH" not in saved
    )

    # A setting the workbench refuses: one line under the fields, the form stays open.
    form = dialog.add()
    form.name.setText("local")
    form.host.setText("somewhere")
    click(qtbot, form.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert form.isVisible() and "cannot name a remote" in form.error.text()
    assert "\n" not in form.error.text()
    form.reject()

    # Check: off the GUI thread ("checking…" first), then what the host has.
    dialog.select("box")
    click(qtbot, dialog.check_button)
    assert dialog.state_text("box") == "checking…" and not dialog.check_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.state_text("box") != "checking…", timeout=CHECK_MS)
    ready = dialog.state_text("box")
    assert ready.startswith("ready: cpu, 1 device, Layerloom "), ready
    assert "box: ready" in dialog.result.text()

    # A host whose key is not in the given known_hosts: refused, in one line, with the fingerprint.
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    add_box(server, tmp_path, "stranger", known_hosts=str(empty))
    dialog.reload()
    dialog.select("stranger")
    click(qtbot, dialog.check_button)
    qtbot.waitUntil(lambda: dialog.state_text("stranger") != "checking…", timeout=CHECK_MS)
    refused = dialog.state_text("stranger")
    assert "is not known" in refused and "SHA256:" in refused, refused
    assert "\n" not in refused and "Traceback" not in refused
    assert dialog.result.property("role") == "error"
    dialog.grab().save(str(tmp_path / "remotes_dialog.png"))

    # Set Up reports its progress lines as they come, and its failure as one line.
    dialog.set_up()
    assert not dialog.setup_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.setup_task is None, timeout=CHECK_MS)
    output = dialog.output.toPlainText()
    assert (
        output.startswith("connecting to ") and "failed: " in output and "Traceback" not in output
    )

    click(qtbot, dialog.remove_button)
    assert dialog.names() == ["box"]
    assert "stranger" not in user_config.read_text() and "[remote.box]" in user_config.read_text()


def test_stop_waiting_drops_what_the_work_says_afterwards(qtbot):
    from layerloom.app.gui.training.offthread import run_off_thread

    release, seen = threading.Event(), []

    def work(report):
        report("first")
        release.wait(10)
        report("late")
        return "result"

    task = run_off_thread(work, lambda *done: seen.append(done), progress=seen.append)
    qtbot.waitUntil(lambda: seen == ["first"], timeout=5000)
    task.cancel()
    release.set()
    qtbot.waitUntil(lambda: task.finished, timeout=5000)
    assert seen == ["first"]


def _epochs_recorded(path: Path, run_id: int) -> list[int]:
    from layerloom.app.workbench import open_project

    with open_project(path) as opened:
        rows = opened.project.conn.execute(
            "SELECT epoch FROM metrics WHERE run_id = ? AND split = 'train' AND name = 'loss'"
            " ORDER BY epoch",
            [run_id],
        ).fetchall()
    return [epoch for (epoch,) in rows]


@pytest.mark.keras
def test_train_on_a_remote_from_the_panel_close_detaches_and_attach_follows_it_again(
    make_window, qtbot, server, tmp_path
):
    from layerloom.app.gui.document import Document
    from layerloom.app.gui.training.backend_chooser import _settings_key

    add_box(server, tmp_path)
    path = tmp_path / "remote.loom"
    window, prompts = make_window(Document.new(path, "mlp_classifier"))
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    window.show_training()
    panel = window.training
    assert panel.chooser.remotes() == ["box"] and panel.chooser.remote() is None

    # Choosing the remote checks it (off the GUI thread) and remembers it for this project.
    assert panel.chooser.choose("box")
    qtbot.waitUntil(lambda: panel.chooser.status_text().startswith("ready"), timeout=CHECK_MS)
    assert "ready, cpu ×1" in panel.chooser.combo.currentText()
    assert QSettings().value(_settings_key(path)) == "box"

    panel.form.edit("epochs", 2)
    click(qtbot, panel.progress.train_button)
    assert panel.running and not window.act.train.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=TRAIN_MS)
    assert panel.progress.texts()["status"] == "Finished", panel.log.toPlainText()
    assert prompts.errors == []
    assert panel.plots.curve_points("loss", "train") == 2  # live curves, as for a local run
    run = panel.runs.model.runs[0]
    assert (run["status"], run["backend"], run["backend_label"]) == (
        "finished",
        "remote:box",
        "box",
    )
    assert f"127.0.0.1:{server.port}" in run["host"]
    headers = panel.runs.model.headers()
    column = headers.index("Backend")
    assert panel.runs.model.index(0, column).data() == "box"
    assert panel.runs.model.index(0, headers.index("Host")).data() == run["host"]
    panel.runs.select([run["id"]])
    assert panel.can_evaluate() and panel.can_resume() and not panel.attach_button.isEnabled()
    dock = window.docks["training"]  # floating and wide, to render the panel as a whole
    dock.setFloating(True)
    dock.resize(1400, 560)
    qtbot.wait(50)
    dock.grab().save(str(tmp_path / "training_panel_remote.png"))

    # A second run, followed when the window closes: detached, not stopped, and nobody is asked.
    panel.runs.select([], emit=False)
    panel.form.edit("epochs", 8)
    click(qtbot, panel.progress.train_button)
    qtbot.waitUntil(lambda: panel.progress.state == "running", timeout=TRAIN_MS)
    prompts.save_changes[:] = ["discard"]
    window.close()
    assert window._closed and "stop_training" not in prompts.asked

    # Another window on the project: the run is still running there; Attach follows it to its end.
    again, _prompts = make_window(Document.open(path))
    again.show()
    later = again.training
    assert later.chooser.remote() == "box"  # remembered for this project
    running = later.runs.model.runs[-1]
    assert running["status"] == "running" and running["id"] == 2
    later.runs.select([2])
    assert later.attach_button.isEnabled()
    click(qtbot, later.attach_button)
    qtbot.waitUntil(lambda: not later.running, timeout=TRAIN_MS)
    assert later.runs.run(2)["status"] == "finished", later.log.toPlainText()
    assert _epochs_recorded(path, 2) == list(range(1, 9))  # every epoch, exactly once
