"""The main window driven through its real widgets, asserting on the domain graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from layerloom.app.gui.document import Document
from layerloom.app.gui.session import untitled_document
from layerloom.nodes.edits import AddNode, RemoveNodes, Rename
from tests.gui.helpers import add_node, broken_document, node_named, png_dir, snapshot


# --- files --------------------------------------------------------------------------------------
def test_save_untitled_asks_for_a_path_and_reopens_equal(mlp_window, tmp_path):
    window, prompts = mlp_window
    doc = window.document
    assert window.windowTitle() == "Untitled[*] — Layerloom"
    window.inspector.show_node(node_named(doc, "hidden_1").id)
    window.inspector.editors["units"].spin.setValue(40)
    assert window.isWindowModified()

    prompts.save_paths.append(str(tmp_path / "model"))  # the suffix is added
    window.act.save.trigger()

    target = tmp_path / "model.loom"
    assert target.is_file() and doc.path == target
    assert window.windowTitle() == "model.loom[*] — Layerloom"
    assert not window.isWindowModified()
    reopened = Document.open(target)
    try:
        assert snapshot(reopened) == snapshot(doc)
    finally:
        reopened.close()
    assert window.recent.paths() == [target.resolve()]


def test_save_as_writes_a_new_file_and_switches_to_it(make_window, tmp_path):
    first = tmp_path / "first.loom"
    Document.new(first, "mlp_classifier").close()
    window, prompts = make_window(Document.open(first))
    doc = window.document
    doc.push(Rename(node_named(doc, "classes").id, "logits"))
    assert window.windowTitle() == "first.loom[*] — Layerloom" and window.isWindowModified()

    prompts.save_paths.append(str(tmp_path / "second.loom"))
    window.act.save_as.trigger()

    assert doc.path == tmp_path / "second.loom"
    assert window.windowTitle() == "second.loom[*] — Layerloom"
    assert not window.isWindowModified()
    for path, name in ((tmp_path / "second.loom", "logits"), (first, "classes")):
        reopened = Document.open(path)
        try:
            assert reopened.graph.by_name(name) is not None
        finally:
            reopened.close()


def test_open_corrupt_file_shows_one_error_and_keeps_the_document(mlp_window, tmp_path):
    window, prompts = mlp_window
    doc = window.document
    before = snapshot(doc)
    corrupt = tmp_path / "corrupt.loom"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\x13" * 400)
    prompts.open_paths.append(str(corrupt))

    window.act.open.trigger()

    assert len(prompts.errors) == 1
    title, message = prompts.errors[0]
    assert "Open" in title and "corrupt.loom" in message
    assert window.document is doc and snapshot(doc) == before
    assert window.open_document(tmp_path / "missing.loom") is False
    assert len(prompts.errors) == 2


def test_open_replaces_the_document_after_asking_to_save(mlp_window, tmp_path):
    window, prompts = mlp_window
    other = tmp_path / "other.loom"
    Document.new(other, "small_cnn").close()
    window.document.push(Rename(node_named(window.document, "classes").id, "out"))
    prompts.open_paths.append(str(other))
    prompts.save_changes.append("discard")

    window.act.open.trigger()

    assert prompts.asked == ["open_path", "save_changes"]
    assert window.document.path == other
    assert window.view.document is window.document
    assert window.inspector.document is window.document
    assert window.undo_group.activeStack() is window.document.undo_stack
    assert not window.isWindowModified()


def test_new_asks_for_a_template(mlp_window):
    window, prompts = mlp_window
    prompts.templates += ["small_cnn", ""]
    window.act.new.trigger()
    assert any(n.type_id == "keras.layers.Conv2D" for n in window.document.graph.nodes())
    assert window.document.path is None and not window.document.modified
    window.act.new.trigger()
    assert len(window.document.graph) == 0


def test_save_error_keeps_the_document_modified(mlp_window, tmp_path):
    window, prompts = mlp_window
    window.document.push(Rename(node_named(window.document, "classes").id, "out"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    prompts.save_paths.append(str(blocker / "sub" / "m.loom"))  # a file is in the way
    assert window.save() is False
    assert len(prompts.errors) == 1
    assert window.document.modified and window.document.path is None


def test_recent_files_are_pruned_and_capped(mlp_window, tmp_path):
    window, _ = mlp_window
    paths = []
    for i in range(12):
        path = tmp_path / f"p{i}.loom"
        path.write_text("x")
        window.recent.add(path)
        paths.append(path.resolve())
    assert window.recent.paths() == list(reversed(paths))[:10]
    paths[11].unlink()
    assert window.recent.paths()[0] == paths[10]
    window.fill_recent_menu()
    texts = [a.text() for a in window.act.recent_menu.actions()]
    assert "&1  p10.loom" in texts and len(texts) == 9 + 2  # entries, separator, Clear Menu


# --- closing ------------------------------------------------------------------------------------
def test_close_with_unsaved_changes_cancel_keeps_window_open(mlp_window):
    window, prompts = mlp_window
    window.show()
    window.document.push(Rename(node_named(window.document, "classes").id, "out"))
    prompts.save_changes.append("cancel")
    assert window.close() is False
    assert window.isVisible() and not window._closed


def test_close_with_unsaved_changes_discard_closes(mlp_window):
    window, prompts = mlp_window
    window.show()
    window.document.push(Rename(node_named(window.document, "classes").id, "out"))
    prompts.save_changes.append("discard")
    assert window.close() is True
    assert not window.isVisible()


def test_close_with_unsaved_changes_save_saves(mlp_window, tmp_path):
    window, prompts = mlp_window
    window.show()
    window.document.push(Rename(node_named(window.document, "classes").id, "out"))
    prompts.save_changes.append("save")
    prompts.save_paths.append(str(tmp_path / "kept.loom"))
    assert window.close() is True
    reopened = Document.open(tmp_path / "kept.loom")
    try:
        assert reopened.graph.by_name("out") is not None
    finally:
        reopened.close()


def test_close_unmodified_does_not_ask(mlp_window):
    window, prompts = mlp_window
    assert window.close() is True
    assert prompts.asked == []


def test_dock_layout_and_geometry_persist(make_window, qtbot):
    window, _ = make_window()
    window.show()
    window.docks["history"].hide()
    window.close()
    again, _ = make_window()
    assert again.docks["history"].isHidden()
    assert not again.docks["inspector"].isHidden()
    again.act.reset_layout.trigger()
    assert not again.docks["history"].isHidden()


# --- autosave and recovery ----------------------------------------------------------------------
def _recovery_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def test_autosave_writes_a_recovery_file_and_restores_it_at_start(
    make_window, qtbot, tmp_path, recovery_dir
):
    project = tmp_path / "work.loom"
    Document.new(project, "mlp_classifier").close()
    window, _ = make_window(Document.open(project), interval_ms=20)
    doc = window.document
    doc.push(Rename(node_named(doc, "classes").id, "scores"))
    qtbot.waitUntil(lambda: len(_recovery_files(recovery_dir)) == 1, timeout=3000)
    data = json.loads(_recovery_files(recovery_dir)[0].read_text())
    assert data["path"] == str(project)
    assert any(n["name"] == "scores" for n in data["graph"]["nodes"])
    edited = snapshot(doc)
    window.autosaver.detach()  # the app "crashes": the snapshot stays behind

    fresh, prompts = make_window()
    prompts.restore.append(True)
    assert fresh.offer_recovery() == 1
    assert fresh.document.path == project
    assert fresh.document.modified and fresh.isWindowModified()
    assert snapshot(fresh.document) == edited
    assert [p.name for p in _recovery_files(recovery_dir)] == [fresh.autosaver.file.name]
    fresh.act.undo.trigger()  # the restore is one undoable step back to the saved project
    assert fresh.document.graph.by_name("classes") is not None


def test_recovery_of_an_untitled_document_and_declining(make_window, qtbot, recovery_dir):
    window, _ = make_window(interval_ms=20)
    doc = window.document
    doc.push(AddNode(add_node(doc, "keras.Input", "pixels", shape=(4,))))
    qtbot.waitUntil(lambda: len(_recovery_files(recovery_dir)) == 1, timeout=3000)
    window.autosaver.detach()

    declined, prompts = make_window()
    prompts.restore.append(False)
    assert declined.offer_recovery() == 0
    assert _recovery_files(recovery_dir) == []
    assert len(declined.document.graph) == 0

    window2, _ = make_window(interval_ms=20)
    window2.document.push(AddNode(add_node(window2.document, "keras.Input", "pixels")))
    qtbot.waitUntil(lambda: len(_recovery_files(recovery_dir)) == 1, timeout=3000)
    window2.autosaver.detach()
    restored, prompts = make_window()
    prompts.restore.append(True)
    assert restored.offer_recovery() == 1
    assert restored.document.path is None and restored.document.modified
    assert restored.document.graph.by_name("pixels") is not None


def test_recovery_for_another_project_opens_its_own_window(
    make_window, qtbot, tmp_path, recovery_dir
):
    from layerloom.app.gui import main_window
    from tests.gui.conftest import Prompts

    crashed_path, open_path = tmp_path / "crashed.loom", tmp_path / "open.loom"
    for path in (crashed_path, open_path):
        Document.new(path, "mlp_classifier").close()
    crashed, _ = make_window(Document.open(crashed_path), interval_ms=20)
    crashed.document.push(Rename(node_named(crashed.document, "classes").id, "late"))
    qtbot.waitUntil(lambda: len(_recovery_files(recovery_dir)) == 1, timeout=3000)
    crashed.autosaver.detach()

    window, prompts = make_window(Document.open(open_path))
    prompts.restore.append(True)
    assert window.offer_recovery() == 1
    assert window.document.path == open_path  # what the user opened stays
    extra = main_window._extra_windows[-1]
    try:
        assert extra.document.path == crashed_path and extra.document.modified
        assert extra.document.graph.by_name("late") is not None
    finally:
        extra_prompts = Prompts()
        extra_prompts.install(extra)
        extra_prompts.save_changes.append("discard")
        assert extra.close()
    assert extra not in main_window._extra_windows


def test_live_sessions_are_not_offered_and_clean_close_removes_the_file(
    make_window, qtbot, recovery_dir
):
    window, prompts = make_window(interval_ms=20)
    window.document.push(AddNode(add_node(window.document, "keras.Input", "x")))
    qtbot.waitUntil(lambda: len(_recovery_files(recovery_dir)) == 1, timeout=3000)
    other, other_prompts = make_window()
    assert other.offer_recovery() == 0  # the first window is alive and owns its file
    assert other_prompts.asked == []
    prompts.save_changes.append("discard")
    window.close()
    assert _recovery_files(recovery_dir) == []


# --- problems and status ------------------------------------------------------------------------
def test_problems_panel_lists_problems_and_centres_on_the_node(make_window, qtbot):
    document, orphan = broken_document()
    window, _ = make_window(document)
    window.show()
    lines = window.problems.lines()
    assert "orphan: input 'input' is not connected" in lines
    assert len(lines) == 1
    assert window.problems_button.text() == "⚠ 1 problem"
    assert window.docks["problems"].windowTitle() == f"Problems ({len(lines)})"

    row = lines.index("orphan: input 'input' is not connected")
    window.problems.list.setCurrentRow(row)
    assert window.view.selected_node_ids() == [orphan.id]
    assert window.inspector.node_id == orphan.id


def test_status_bar_follows_analysis(mlp_window, qtbot):
    window, _ = mlp_window
    doc = window.document
    assert window.problems_button.text() == "✓ compiles"
    assert window.params_label.text() == f"{doc.analysis.total_params:,} params"
    doc.push(RemoveNodes([node_named(doc, "features").id]))
    qtbot.waitUntil(lambda: window.problems_button.text().startswith("⚠"))
    assert window.problems.lines()


# --- keyboard -----------------------------------------------------------------------------------
def test_standard_shortcuts(mlp_window):
    window, _ = mlp_window
    a = window.act
    Key = QKeySequence.StandardKey
    for action, key in (
        (a.new, Key.New),
        (a.open, Key.Open),
        (a.save, Key.Save),
        (a.undo, Key.Undo),
        (a.copy, Key.Copy),
        (a.paste, Key.Paste),
        (a.select_all, Key.SelectAll),
        (a.zoom_in, Key.ZoomIn),
    ):
        assert QKeySequence.keyBindings(key)[0] in action.shortcuts(), action.text()
    assert a.duplicate.shortcut() == QKeySequence("Ctrl+D")
    menu_actions = {
        act for menu in window.menuBar().findChildren(type(a.recent_menu)) for act in menu.actions()
    }
    for action in vars(a).values():
        if hasattr(action, "shortcut") and action is not a.recent_menu:
            assert action in menu_actions or action.shortcut(), action.text()


def test_panels_are_reachable_from_the_keyboard(mlp_window, qtbot):
    window, _ = mlp_window
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    for key, action in (
        ("palette", window.act.focus_palette),
        ("problems", window.act.focus_problems),
        ("history", window.act.focus_history),
    ):
        action.trigger()
        dock = window.docks[key]
        qtbot.waitUntil(lambda dock=dock: dock.isAncestorOf(qapp_focus()))
    window.act.focus_canvas.trigger()
    qtbot.waitUntil(lambda: qapp_focus() is window.view)


def qapp_focus():
    from PySide6.QtWidgets import QApplication

    return QApplication.focusWidget()


def test_ctrl_d_duplicates_the_selection(mlp_window, qtbot):
    window, _ = mlp_window
    window.show()
    qtbot.waitExposed(window)
    doc = window.document
    window.view.select_nodes([node_named(doc, "dropout").id])
    window.view.setFocus()
    count = len(doc.graph)
    qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.graph) == count + 1


# --- screenshot ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_main_window_screenshot(make_window, qtbot, qapp, dark):
    from layerloom.app.gui.theme import apply_theme

    apply_theme(qapp, dark=dark)
    try:
        window, _ = make_window(untitled_document("residual_cnn"))
        window.resize(1440, 900)
        window.show()
        qtbot.waitExposed(window)
        qtbot.wait(50)
        window.view.show_start()
        window.view.center_on(node_named(window.document, "block_relu").id)
        qtbot.wait(50)
        out = png_dir()
        out.mkdir(exist_ok=True)
        png = out / ("main_window_dark.png" if dark else "main_window.png")
        assert window.grab().save(str(png))
        assert png.stat().st_size > 10_000
    finally:
        qapp.setStyleSheet("")
        qapp.setPalette(qapp.style().standardPalette())


def test_template_dialog_lists_empty_and_every_template(qtbot):
    from layerloom.app.gui.dialogs import TemplateDialog, template_title
    from layerloom.nodes.templates import list_templates

    dialog = TemplateDialog()
    qtbot.addWidget(dialog)
    assert dialog.template() == ""  # "Empty" is first and preselected
    names = [t.name for t in list_templates()]
    assert dialog.list.count() == len(names) + 1
    dialog.list.setCurrentRow(names.index("residual_cnn") + 1)
    assert dialog.template() == "residual_cnn"
    assert template_title("residual_cnn") == "Residual CNN"
