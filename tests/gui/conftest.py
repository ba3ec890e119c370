"""GUI fixtures: an isolated QSettings store and recovery folder, and a window factory.

Every prompt a window could block on (save changes?, file dialogs, error boxes, restore?) is
replaced by a recorder, so a test that forgets to script one fails instead of hanging.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch, qapp):
    qapp.setOrganizationName("Layerloom")
    qapp.setApplicationName("Layerloom")
    config = tmp_path / "config"
    config.mkdir()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(config))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield config


class Prompts:
    """What the window asked, and the scripted answers it gets."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []
        self.save_changes: list[str] = []  # answers, consumed in order
        self.save_paths: list[str] = []
        self.open_paths: list[str] = []
        self.templates: list[str | None] = []
        self.restore: list[bool] = []
        # A window closed while a run still trains stops it rather than opening a real dialog.
        self.stop_training: list[bool] = [True] * 10
        self.asked: list[str] = []

    def install(self, window):
        def take(queue, name):
            def answer(*_args):
                self.asked.append(name)
                if not queue:
                    raise AssertionError(f"unexpected prompt: {name}")
                return queue.pop(0)

            return answer

        window.ask_save_changes = take(self.save_changes, "save_changes")
        window.ask_save_path = take(self.save_paths, "save_path")
        window.ask_open_path = take(self.open_paths, "open_path")
        window.ask_template = take(self.templates, "template")
        window.ask_restore = take(self.restore, "restore")
        window.ask_stop_training = take(self.stop_training, "stop_training")
        window.show_error = lambda title, message: self.errors.append((title, message))
        return window


@pytest.fixture
def recovery_dir(tmp_path):
    return tmp_path / "recovery"


@pytest.fixture
def make_window(qtbot, recovery_dir):
    """make_window(document=None, interval_ms=None) -> (window, prompts); closed at teardown."""
    from layerloom.app.gui.main_window import MainWindow

    made = []

    def make(document=None, interval_ms=None):
        window = MainWindow(document, recovery_dir=recovery_dir, autosave_interval_ms=interval_ms)
        prompts = Prompts()
        prompts.install(window)
        made.append((window, prompts))
        return window, prompts

    yield make
    for window, prompts in made:  # closed here, not by qtbot, so the unsaved prompt is scripted
        if not window._closed:
            prompts.save_changes[:] = ["discard"]
            window.close()
        window.deleteLater()


@pytest.fixture
def mlp_window(make_window):
    """A main window with an untitled MLP template document, and its scripted prompts."""
    from layerloom.app.gui.session import untitled_document

    window, prompts = make_window(untitled_document("mlp_classifier"))
    return window, prompts


@pytest.fixture
def documents():
    opened = []

    from layerloom.app.gui.document import Document

    def make(template=None, path=None):
        doc = Document.new(path, template=template) if template else Document()
        opened.append(doc)
        return doc

    yield make
    for doc in opened:
        doc.close()


@pytest.fixture
def make_view(qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QTransform

    from layerloom.app.gui.canvas import GraphView

    def make(document, size=(1200, 700)):
        view = GraphView(document)
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        # Deterministic framing: 1:1 zoom with the scene origin near the top-left corner.
        view.setTransform(QTransform())
        view.centerOn(QPointF(size[0] / 2 - 100, size[1] / 2 - 150))
        return view

    return make
