"""The main window's actions, menus and toolbar.

Every command is a QAction with a standard shortcut where the platform has one, listed in a menu (so
it is keyboard reachable and discoverable) and added to the window (so its shortcut works wherever
focus is). Canvas commands look up ``window.view`` when triggered, because New/Open replace the view.
"""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from layerloom.app.gui.block_actions import add_block_actions
from layerloom.app.gui.graph_image import export_graph_image
from layerloom.app.gui.help import add_help_actions, fill_help_menu
from layerloom.app.gui.icons import icon
from layerloom.app.gui.tensorboard_action import export_tensorboard_logs

Key = QKeySequence.StandardKey


def _sequences(shortcut) -> list[QKeySequence]:
    if shortcut is None:
        return []
    if isinstance(shortcut, QKeySequence.StandardKey):
        return QKeySequence.keyBindings(shortcut)
    if isinstance(shortcut, (list, tuple)):
        return [s for item in shortcut for s in _sequences(item)]
    return [QKeySequence(shortcut)]


def _tooltip(action: QAction) -> None:
    text = action.text().replace("&", "").removesuffix("…")
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{text} ({keys})" if keys else text)


def make_action(window, text, slot=None, shortcut=None, icon_name=None, tip=None) -> QAction:
    action = QAction(text, window)
    action.setShortcuts(_sequences(shortcut))
    if icon_name:
        action.setIcon(icon(icon_name))
    if slot is not None:
        action.triggered.connect(lambda _checked=False: slot())
    if tip:
        action.setStatusTip(tip)
    _tooltip(action)
    window.addAction(action)
    return action


def build_actions(window) -> SimpleNamespace:
    """Create the actions, the menu bar and the toolbar of ``window`` (a MainWindow)."""
    a = SimpleNamespace()
    view = lambda: window.view  # noqa: E731 - the current canvas, replaced by New/Open

    # --- File ---------------------------------------------------------------------------------
    a.new = make_action(
        window,
        "&New…",
        window.new_document,
        Key.New,
        "document-new",
        "Create a project from a template",
    )
    a.open = make_action(
        window, "&Open…", window.open_document, Key.Open, "document-open", "Open a .loom project"
    )
    a.import_model = make_action(
        window,
        "&Import…",
        window.import_model,
        None,
        None,
        "A Keras model (.keras, .h5) or application as a new project, with its weights",
    )
    a.save = make_action(
        window, "&Save", window.save, Key.Save, "document-save", "Save the project"
    )
    a.save_as = make_action(
        window, "Save &As…", window.save_as, Key.SaveAs, None, "Save the project under a new name"
    )
    a.export = make_action(
        window,
        "&Export…",
        window.export_model,
        "Ctrl+E",
        "export",
        "Export a trained run to a phone, a browser, a server, ONNX, Keras or Python",
    )
    a.quit = make_action(window, "&Quit", window.close, Key.Quit)
    a.quit.setMenuRole(QAction.MenuRole.QuitRole)

    # --- Edit ---------------------------------------------------------------------------------
    a.undo = window.undo_group.createUndoAction(window, "&Undo")
    a.undo.setShortcuts(_sequences(Key.Undo))
    a.undo.setIcon(icon("edit-undo"))
    a.redo = window.undo_group.createRedoAction(window, "&Redo")
    a.redo.setShortcuts(_sequences([Key.Redo, "Ctrl+Y"]))
    a.redo.setIcon(icon("edit-redo"))
    for action in (a.undo, a.redo):
        window.addAction(action)
        action.changed.connect(lambda action=action: _tooltip(action))
        _tooltip(action)
    a.cut = make_action(window, "Cu&t", lambda: view().cut(), Key.Cut, "edit-cut")
    a.copy = make_action(window, "&Copy", lambda: view().copy(), Key.Copy, "edit-copy")
    a.paste = make_action(window, "&Paste", lambda: view().paste(), Key.Paste, "edit-paste")
    a.duplicate = make_action(
        window, "D&uplicate", lambda: view().duplicate(), "Ctrl+D", "edit-duplicate"
    )
    a.delete = make_action(
        window,
        "&Delete",
        lambda: view().delete_selected(),
        [Key.Delete, "Backspace"],
        "edit-delete",
    )
    a.select_all = make_action(
        window, "Select &All", lambda: view().select_all(), Key.SelectAll, "select-all"
    )

    # --- View and arrange ---------------------------------------------------------------------
    a.zoom_in = make_action(
        window, "Zoom &In", lambda: view().zoom_in(), [Key.ZoomIn, "Ctrl+="], "zoom-in"
    )
    a.zoom_out = make_action(
        window, "Zoom &Out", lambda: view().zoom_out(), Key.ZoomOut, "zoom-out"
    )
    a.fit = make_action(window, "&Fit to Window", lambda: view().fit(), "Ctrl+0", "zoom-fit")
    a.layout_lr = make_action(
        window,
        "Auto-layout &Left to Right",
        lambda: view().auto_layout("lr"),
        "Ctrl+L",
        "layout-lr",
    )
    a.layout_tb = make_action(
        window,
        "Auto-layout &Top to Bottom",
        lambda: view().auto_layout("tb"),
        "Ctrl+Shift+L",
        "layout-tb",
    )
    a.focus_canvas = make_action(window, "&Canvas", lambda: window.focus_panel("canvas"), "Ctrl+1")
    a.focus_palette = make_action(
        window, "&Layers", lambda: window.focus_panel("palette"), "Ctrl+2"
    )
    a.focus_inspector = make_action(
        window, "&Inspector", lambda: window.focus_panel("inspector"), "Ctrl+3"
    )
    a.focus_problems = make_action(
        window, "&Problems", lambda: window.focus_panel("problems"), "Ctrl+4"
    )
    a.focus_history = make_action(
        window, "&History", lambda: window.focus_panel("history"), "Ctrl+5"
    )
    a.focus_training = make_action(
        window, "&Training", lambda: window.focus_panel("training"), "Ctrl+6"
    )
    a.reset_layout = make_action(window, "&Reset Panel Layout", window.reset_layout)

    # --- Run ----------------------------------------------------------------------------------
    a.train = make_action(
        window, "&Train", window.train, "F5", None, "Train the graph with the training settings"
    )
    a.stop_training = make_action(
        window,
        "&Stop",
        window.stop_training,
        "Shift+F5",
        None,
        "Stop the run after its current batch (it keeps its checkpoints)",
    )
    a.resume_training = make_action(
        window,
        "&Resume",
        window.resume_training,
        None,
        None,
        "Continue the selected run from its last checkpoint",
    )
    a.evaluate_run = make_action(
        window,
        "&Evaluate",
        window.evaluate_run,
        None,
        None,
        "Evaluate the selected run on held-out data",
    )
    a.export_tensorboard = make_action(
        window,
        "Export &TensorBoard Logs…",
        lambda: export_tensorboard_logs(window),
        None,
        None,
        "Write every run's metrics per epoch and the model's graph as TensorBoard logs",
    )
    a.remotes = make_action(
        window,
        "Re&motes…",
        window.show_remotes,
        None,
        None,
        "Add, check, set up or remove the hosts you train on over SSH",
    )
    a.export_image = make_action(
        window,
        "Export &Graph Image…",
        lambda: export_graph_image(window),
        None,
        None,
        "Save the graph as a PNG or SVG picture",
    )
    a.about = make_action(window, "&About Layerloom", window.show_about)
    a.about.setMenuRole(QAction.MenuRole.AboutRole)

    add_block_actions(window, a, make_action)
    add_help_actions(window, a, make_action)
    _build_menus(window, a)
    _build_toolbar(window, a)
    return a


def _build_menus(window, a: SimpleNamespace) -> None:
    bar = window.menuBar()
    file = bar.addMenu("&File")
    file.addActions([a.new, a.open, a.import_model])
    a.recent_menu = QMenu("Open &Recent", window)
    a.recent_menu.aboutToShow.connect(window.fill_recent_menu)
    file.addMenu(a.recent_menu)
    file.addSeparator()
    file.addActions([a.save, a.save_as])
    file.addSeparator()
    file.addAction(a.export)
    file.addAction(a.export_image)
    file.addSeparator()
    file.addAction(a.quit)

    edit = bar.addMenu("&Edit")
    edit.addActions([a.undo, a.redo])
    edit.addSeparator()
    edit.addActions([a.cut, a.copy, a.paste, a.duplicate, a.delete])
    edit.addSeparator()
    edit.addAction(a.select_all)
    edit.addAction(a.find_node)

    view = bar.addMenu("&View")
    view.addActions([a.zoom_in, a.zoom_out, a.fit])
    view.addSeparator()
    go = view.addMenu("&Go to Panel")
    go.addActions(
        [
            a.focus_canvas,
            a.focus_palette,
            a.focus_inspector,
            a.focus_problems,
            a.focus_history,
            a.focus_training,
        ]
    )
    panels = view.addMenu("&Show Panels")
    for dock in window.docks.values():
        panels.addAction(dock.toggleViewAction())
    panels.addAction(window.toolbar_toggle)
    view.addSeparator()
    view.addAction(a.reset_layout)

    arrange = bar.addMenu("&Arrange")
    arrange.addActions([a.layout_lr, a.layout_tb])
    arrange.addSeparator()
    arrange.addActions([a.group, a.ungroup, a.toggle_block, a.save_template])

    run = bar.addMenu("&Run")
    run.addActions([a.train, a.stop_training, a.resume_training])
    run.addSeparator()
    run.addActions([a.evaluate_run, a.export_tensorboard])
    run.addSeparator()
    run.addAction(a.remotes)

    help_menu = bar.addMenu("&Help")
    fill_help_menu(help_menu, a)
    help_menu.addSeparator()
    help_menu.addAction(a.about)


def _build_toolbar(window, a: SimpleNamespace) -> None:
    toolbar: QToolBar = window.toolbar
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    toolbar.addActions([a.new, a.open, a.save])
    toolbar.addSeparator()
    toolbar.addAction(a.export)
    toolbar.addSeparator()
    toolbar.addActions([a.undo, a.redo])
    toolbar.addSeparator()
    toolbar.addActions([a.cut, a.copy, a.paste, a.delete])
    toolbar.addSeparator()
    toolbar.addActions([a.zoom_in, a.zoom_out, a.fit])
    toolbar.addSeparator()
    toolbar.addActions([a.layout_lr, a.layout_tb])
