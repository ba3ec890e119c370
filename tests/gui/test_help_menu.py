"""The Help menu: sample project, keyboard shortcuts, user guide, layer reference, report a problem.

Each window is opened through its real action (or function, where a folder dialog would ask),
checked for what the program knows (the actions, the registry, the shipped guide) and rendered to
PNG to be looked at.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QKeySequence, QTextDocument
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QTextBrowser

from layerloom.app.gui import help as help_menu
from layerloom.app.workbench.demo import DEMO_EPOCHS, DEMO_PROJECT, DEMO_TEMPLATE
from layerloom.app.workbench.training_settings import show_settings
from layerloom.nodes.registry import default_registry
from tests.gui.helpers import png_dir


def _menu_texts(window) -> list[str]:
    (help_action,) = [a for a in window.menuBar().actions() if a.text() == "&Help"]
    return [a.text() for a in help_action.menu().actions() if not a.isSeparator()]


def _newest_dialog(title: str):
    found = [w for w in QApplication.topLevelWidgets() if w.windowTitle() == title]
    assert [w for w in found if w.isVisible()], f"no visible window {title!r}"
    return [w for w in found if w.isVisible()][-1]


def test_the_help_menu_lists_every_entry(mlp_window) -> None:
    window, _prompts = mlp_window
    assert _menu_texts(window) == [
        "Open a &Sample Project…",
        "&User Guide",
        "&Layer Reference",
        "&Keyboard Shortcuts",
        "&Report a Problem…",
        "&About Layerloom",
    ]


def test_open_a_sample_project_creates_it_in_a_new_folder_and_opens_it(
    make_window, qtbot, tmp_path
) -> None:
    window, prompts = make_window()
    (tmp_path / "layerloom-demo").mkdir()
    (tmp_path / "layerloom-demo" / "mine.txt").write_text("someone's file")
    path = help_menu.open_sample_project(window, tmp_path)
    # the folder with someone's file is left alone: the sample goes into the next free name
    assert path == tmp_path / "layerloom-demo-2" / DEMO_PROJECT
    assert window.document.path == path and not window.document.modified
    assert prompts.errors == []
    assert window.document.graph.by_name("conv_1") is not None  # the small CNN, ready to train
    epochs = next(row for row in show_settings(path) if row.name == "epochs")
    assert epochs.value == DEMO_EPOCHS
    assert window.act.train.isEnabled()
    assert "press F5 to train" in window.statusBar().currentMessage()
    assert (tmp_path / "layerloom-demo" / "mine.txt").read_text() == "someone's file"
    assert DEMO_TEMPLATE == "small_cnn"


def test_keyboard_shortcuts_are_read_from_the_actions(mlp_window, qtbot) -> None:
    window, _prompts = mlp_window
    window.resize(1000, 700)
    rows = help_menu.shortcut_rows(window)
    by_name = {(where, name): keys for where, name, keys in rows}
    native = QKeySequence.SequenceFormat.NativeText
    assert by_name[("Run", "Train")] == "F5"
    assert by_name[("File", "Save")] == window.act.save.shortcut().toString(native)
    assert by_name[("View ▸ Go to Panel", "Training")] == "Ctrl+6"
    assert by_name[("Help", "Keyboard Shortcuts")] == "Ctrl+/"
    # every action with a shortcut is listed, and nothing is listed without one
    expected = {id(a) for a in window.actions() if not a.shortcut().isEmpty()}
    assert len(rows) == len(expected)
    window.act.shortcuts.trigger()
    dialog = _newest_dialog("Keyboard Shortcuts")
    text = dialog.findChild(QTextBrowser).toPlainText()
    assert "Train" in text and "F5" in text and "Zoom In" in text
    assert dialog.grab().save(str(png_dir() / "help_shortcuts.png"))
    dialog.close()


def test_the_user_guide_is_shipped_and_rendered_with_its_images(mlp_window) -> None:
    window, _prompts = mlp_window
    path = help_menu.guide_path()
    assert path.is_file() and path.read_text(encoding="utf-8").startswith("# Layerloom User Guide")
    dialog = help_menu.show_user_guide(window)
    browser = dialog.findChild(QTextBrowser)
    text = browser.toPlainText()
    assert "Export and deploy" in text and "TF Serving with Docker" in text
    # the screenshots beside the guide load, relative to it (as in the repository and the wheel)
    image = browser.loadResource(
        QTextDocument.ResourceType.ImageResource, QUrl("images/editor.png")
    )
    assert image is not None and len(image) > 1000
    assert dialog.grab().save(str(png_dir() / "help_user_guide.png"))
    dialog.close()


def test_the_layer_reference_covers_every_registered_node(mlp_window, qtbot) -> None:
    window, _prompts = mlp_window
    dialog = help_menu.show_layer_reference(window)
    browser = dialog.findChild(QTextBrowser)
    text = browser.toPlainText()
    for spec in default_registry():
        assert spec.type_id in text, spec.type_id
    # a parameter with its default and help, the shape rule on an example, the export targets
    assert "filters" in text and "Number of output channels" in text
    assert "(28, 28, 3) → (26, 26, 32) with the defaults" in text
    assert "TF Lite Micro" in text and "no: TF Lite Micro has no" in text  # Embedding's refusal
    search = dialog.findChild(QLineEdit, "layerFilter")
    search.setText("lstm")
    filtered = browser.toPlainText()
    assert "LSTM" in filtered and "Conv2D" not in filtered
    assert dialog.grab().save(str(png_dir() / "help_layer_reference.png"))
    search.setText("zzz-no-such-layer")
    assert "No layer matches" in browser.toPlainText()
    dialog.close()


def test_report_a_problem_copies_version_os_and_log_path(mlp_window, tmp_path) -> None:
    window, _prompts = mlp_window
    box = help_menu.report_problem(window)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("Layerloom ")
    assert "OS: " in copied and "Python: " in copied and "keras: " in copied
    # the isolated settings fixture points XDG_STATE_HOME at tmp_path/state
    assert f"Log file: {tmp_path / 'state' / 'layerloom' / 'layerloom.log'}" in copied
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "on the clipboard" in box.text() and copied in box.informativeText()
    assert window.statusBar().currentMessage() == "Problem report copied to the clipboard"
    assert box.grab().save(str(png_dir() / "help_report_problem.png"))
    box.close()
