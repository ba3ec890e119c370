"""The main window: the canvas in the middle, dockable panels around it, files, status and closing.

One window edits one document; New and Open replace it (after asking to save changes). Everything
that would block on a user (file dialogs, save prompts, error boxes, the recovery question) goes
through an ``ask_*``/``show_error`` method, so tests replace exactly that and drive the rest for real.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QUndoGroup
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QUndoView,
)

from layerloom.app.gui.actions import build_actions
from layerloom.app.gui.autosave import Autosaver, Recovery, find_recoveries
from layerloom.app.gui.canvas import GraphView
from layerloom.app.gui.dialogs import RecentFiles
from layerloom.app.gui.document import Document
from layerloom.app.gui.export.commands import ExportCommandsMixin
from layerloom.app.gui.icons import app_icon
from layerloom.app.gui.import_dialog import ImportCommandsMixin
from layerloom.app.gui.inspector import Inspector
from layerloom.app.gui.look_inside import LookInsidePanel
from layerloom.app.gui.palette import Palette
from layerloom.app.gui.problems import ProblemsPanel
from layerloom.app.gui.prompts import APP_NAME, PromptsMixin
from layerloom.app.gui.session import restore_document, untitled_document
from layerloom.app.gui.training.commands import TrainingCommandsMixin
from layerloom.app.gui.wording import gui_text
from layerloom.nodes.catalog.imported import PLACEHOLDER
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.freezing import param_split

# Bump when docks are added or renamed, so old saved layouts are ignored (4: layouts saved with
# the canvas squeezed by File ▸ New).
LAYOUT_VERSION = 4
BOTTOM_SHARE = 0.38  # of the window's height for the bottom panels (Training's plots need it)

_extra_windows: list[QMainWindow] = []  # windows opened for further recovered documents


def error_text(error: Exception) -> str:
    if isinstance(error, LayerloomError):
        return gui_text(str(error))  # the CLI's hints become places in the window
    return f"{type(error).__name__}: {error}"


class MainWindow(
    PromptsMixin, TrainingCommandsMixin, ExportCommandsMixin, ImportCommandsMixin, QMainWindow
):
    def __init__(
        self, document=None, *, settings=None, recovery_dir=None, autosave_interval_ms=None
    ):
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowIcon(app_icon())
        self.settings = settings or QSettings()
        self.recent = RecentFiles(self.settings)
        self.recovery_dir = recovery_dir
        self._autosave_interval_ms = autosave_interval_ms
        self._closed = False
        self.document: Document = document or untitled_document()

        self.undo_group = QUndoGroup(self)
        self.undo_group.cleanChanged.connect(self._on_clean_changed)
        self.view = GraphView(self.document)
        # The canvas sits in a holder that stays the central widget: replacing the central widget
        # itself (File ▸ New, Open) let the docks take its space and left a sliver of canvas.
        self.canvas_holder = QStackedWidget()
        self.canvas_holder.addWidget(self.view)
        self.setCentralWidget(self.canvas_holder)
        self._build_docks()
        self.toolbar = QToolBar("Toolbar", self)
        self.toolbar.setObjectName("mainToolBar")
        self.toolbar_toggle = self.toolbar.toggleViewAction()
        self.addToolBar(self.toolbar)
        self.act = build_actions(self)
        self.update_run_actions()
        self.update_export_action()
        self._build_status_bar()
        self.autosaver = Autosaver(self.document, recovery_dir, autosave_interval_ms)
        self._attach(self.document, self.view, old=None)
        self._restore_layout()

    # --- layout -------------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.palette = Palette(self.document.registry)
        self.palette.node_requested.connect(lambda type_id: self.view.add_node_at(type_id))
        self.inspector = Inspector(self.document)
        self.problems = ProblemsPanel(self.document)
        self.problems.node_chosen.connect(lambda node_id: self.view.center_on(node_id))
        self.problems.count_changed.connect(self._on_problem_count)
        self.history = QUndoView(self.undo_group)
        self.history.setEmptyLabel("Opened")
        self.history.setAccessibleName("History")
        self.look_inside = LookInsidePanel(self.document)
        self.docks: dict[str, QDockWidget] = {}
        for key, title, widget in (
            ("palette", "Layers", self.palette),
            ("inspector", "Inspector", self.inspector),
            ("history", "History", self.history),
            ("problems", "Problems", self.problems),
            ("training", "Training", self.make_training_host()),
            ("inside", "Look Inside", self.look_inside),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{key}Dock")
            dock.setWidget(widget)
            dock.setFocusProxy(widget)
            self.docks[key] = dock
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self._place_docks()
        self._on_problem_count(len(self.problems.lines()))

    def _place_docks(self) -> None:
        Area = Qt.DockWidgetArea
        for key, area in (
            ("palette", Area.LeftDockWidgetArea),
            ("inspector", Area.RightDockWidgetArea),
            ("history", Area.RightDockWidgetArea),
            ("problems", Area.BottomDockWidgetArea),
            ("training", Area.BottomDockWidgetArea),
            ("inside", Area.BottomDockWidgetArea),
        ):
            self.docks[key].setFloating(False)
            self.addDockWidget(area, self.docks[key])
            self.docks[key].show()
        self.tabifyDockWidget(self.docks["problems"], self.docks["training"])
        self.tabifyDockWidget(self.docks["training"], self.docks["inside"])
        self.docks["problems"].raise_()
        self._size_docks()
        self.hook_training_dock(self.docks["training"])

    def _size_docks(self) -> None:
        """Default panel sizes, in font units; effective once the window has its real size."""
        line = self.fontMetrics().height()
        self.resizeDocks(
            [self.docks["palette"], self.docks["inspector"]],
            [self.palette.preferred_width(), line * 20],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks(
            [self.docks["inspector"], self.docks["history"]],
            [line * 30, line * 9],
            Qt.Orientation.Vertical,
        )
        bottom = max(line * 14, int(self.height() * BOTTOM_SHARE))
        self.resizeDocks([self.docks["problems"]], [bottom], Qt.Orientation.Vertical)

    def reset_layout(self) -> None:
        self.toolbar.show()
        self._place_docks()

    def _restore_layout(self) -> None:
        geometry = self.settings.value("mainWindow/geometry")
        state = self.settings.value("mainWindow/state")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()
            self.resize(
                min(1440, int(screen.width() * 0.85)), min(900, int(screen.height() * 0.85))
            )
        self._layout_restored = state is not None and self.restoreState(state, LAYOUT_VERSION)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._layout_restored:
            self._layout_restored = True
            QTimer.singleShot(0, self._size_docks)  # after the first layout pass
        else:
            QTimer.singleShot(0, self._repair_layout)

    def _repair_layout(self) -> None:
        """A restored layout with the canvas or the bottom panels squeezed to a sliver gets the
        default sizes back: neither is usable that way, and a newcomer would not know to drag."""
        line = self.fontMetrics().height()
        bottom = self.docks["problems"]
        squeezed = self.view.height() < self.height() * 0.3 or (
            bottom.isVisible() and not bottom.isFloating() and bottom.height() < line * 8
        )
        if squeezed:
            self._size_docks()

    def _save_layout(self) -> None:
        self.settings.setValue("mainWindow/geometry", self.saveGeometry())
        self.settings.setValue("mainWindow/state", self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def focus_panel(self, key: str) -> None:
        if key == "canvas":
            self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        if key == "training":
            self.show_training()  # builds the panel on first use
        dock = self.docks[key]
        dock.show()
        dock.raise_()
        dock.widget().setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- status bar ---------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.params_label = QLabel()
        self.params_label.setToolTip("Trainable and non-trainable weights of the whole model")
        self.problems_button = QToolButton()
        self.problems_button.setProperty("role", "problems")
        self.problems_button.setAutoRaise(True)
        self.problems_button.setToolTip("Show the Problems panel (Ctrl+4)")
        self.problems_button.clicked.connect(lambda: self.focus_panel("problems"))
        self.statusBar().addPermanentWidget(self.params_label)
        self.statusBar().addPermanentWidget(self.problems_button)
        self._status_timer = QTimer(self, singleShot=True, interval=0)
        self._status_timer.timeout.connect(self.update_status)

    def update_status(self) -> None:
        analysis = self.document.analysis
        graph = self.document.graph
        if any(not node.trainable for node in graph.nodes()):  # split only when it says something
            split = param_split(graph, ((n.id, analysis.param_count(n.id)) for n in graph.nodes()))
            self.params_label.setText(split.text())
        else:
            self.params_label.setText(f"{analysis.total_params:,} params")
        count = len(analysis.problems())
        text = "✓ compiles" if count == 0 else f"⚠ {count} problem{'s' if count != 1 else ''}"
        # An imported placeholder validates but nothing can run it: say so instead of "compiles".
        held = sum(1 for node in graph.nodes() if node.type_id == PLACEHOLDER)
        if count == 0 and held:
            text = f"⚠ {held} placeholder{'s' if held != 1 else ''}: cannot compile"
        self.problems_button.setText(text)
        self.problems_button.setProperty("status", "ok" if count == 0 and not held else "bad")
        self.problems_button.style().unpolish(self.problems_button)
        self.problems_button.style().polish(self.problems_button)

    def _on_problem_count(self, count: int) -> None:
        self.docks["problems"].setWindowTitle(f"Problems ({count})" if count else "Problems")

    def show_message(self, text: str, timeout_ms: int = 4000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # --- the document -------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        """Show ``document`` in this window; the previous one is closed (ask to save first)."""
        old = self.document
        self.document = document
        old_view, self.view = self.view, GraphView(document)
        self.canvas_holder.addWidget(self.view)
        self.canvas_holder.setCurrentWidget(self.view)
        self.canvas_holder.removeWidget(old_view)
        old_view.deleteLater()
        self.inspector.set_document(document)
        self.problems.set_document(document)
        self.look_inside.set_document(document)
        self.training_follow(document)
        self.autosaver.set_document(document)
        self.release_export()  # its dialog shows the old project
        self._attach(document, self.view, old)

    def _attach(self, document: Document, view, old: Document | None) -> None:
        self.undo_group.addStack(document.undo_stack)
        self.undo_group.setActiveStack(document.undo_stack)
        view.selection_changed.connect(self.inspector.on_selection)
        # The canvas's short notes ("Cannot connect: ...") go to the status bar.
        view.message.connect(self.show_message)
        view.empty_hint.template_requested.connect(lambda: self.new_document())
        document.analysis_changed.connect(self._status_timer.start)
        document.path_changed.connect(self.update_title)
        if old is not None and old is not document:
            self.undo_group.removeStack(old.undo_stack)
            old.analysis_changed.disconnect(self._status_timer.start)
            old.path_changed.disconnect(self.update_title)
            old.close()
        self.update_title()
        self.update_status()
        self.update_export_action()

    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def update_title(self) -> None:
        path = self.document.path
        self.setWindowTitle(f"{path.name if path else 'Untitled'}[*] — {APP_NAME}")
        self.setWindowFilePath(str(path) if path else "")
        self.setWindowModified(self.document.modified)

    # --- file commands ------------------------------------------------------------------------
    def maybe_save_changes(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded or unmodified, and
        no run still training, or the user agreed to stop it)."""
        if self.document.modified:
            choice = self.ask_save_changes()
            if choice == "save":
                if not self.save():
                    return False
            elif choice != "discard":
                return False
        return self.release_training() and self.release_export()

    def new_document(self, template: str | None = None) -> bool:
        if template is None:
            template = self.ask_template()
            if template is None:
                return False
        if not self.maybe_save_changes():
            return False
        try:
            document = untitled_document(template or None)
        except LayerloomError as error:
            self.show_error("Could Not Create Project", error_text(error))
            return False
        self.set_document(document)
        self.view.fit()
        return True

    def open_document(self, path: str | Path | None = None) -> bool:
        path = path or self.ask_open_path()
        if not path:
            return False
        try:
            document = Document.open(path)
        except Exception as error:  # a corrupt or foreign file must not take the app down
            self.show_error("Could Not Open Project", f"{Path(path).name}: {error_text(error)}")
            return False
        if not self.maybe_save_changes():
            document.close()
            return False
        self.set_document(document)
        self.recent.add(path)
        self.view.fit()
        self.show_message(f"Opened {Path(path).name}")
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        try:
            self.document.save()
        except Exception as error:
            self.show_error("Could Not Save Project", error_text(error))
            return False
        self.recent.add(self.document.path)
        self.show_message(f"Saved {self.document.path.name}")
        self.update_export_action()
        return True

    def save_as(self, path: str | Path | None = None) -> bool:
        path = path or self.ask_save_path()
        if not path:
            return False
        path = Path(path)
        if path.suffix != ".loom":
            path = path.with_name(path.name + ".loom")
        current = self.document.path
        if current is not None and path.exists() and path.resolve() == current.resolve():
            return self.save()
        try:
            self.document.save_as(path)
        except Exception as error:
            self.show_error("Could Not Save Project", error_text(error))
            return False
        self.update_title()
        self.update_export_action()
        self.recent.add(path)
        self.show_message(f"Saved {path.name}")
        return True

    def fill_recent_menu(self) -> None:
        menu = self.act.recent_menu
        menu.clear()
        paths = self.recent.paths()
        for index, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{index % 10}  {path.name}")
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_document(p))
        if not paths:
            menu.addAction("No Recent Projects").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear Menu", self.recent.clear).setEnabled(bool(paths))

    # --- crash recovery -----------------------------------------------------------------------
    def offer_recovery(self) -> int:
        """Offer every snapshot a crashed session left; returns how many were restored."""
        restored = 0
        for recovery in find_recoveries(self.autosaver.directory):
            if not self.ask_restore(recovery):
                recovery.discard()
                continue
            try:
                document = restore_document(recovery)
            except Exception as error:
                self.show_error("Could Not Restore", error_text(error))
                continue
            if restored == 0 and self._can_hold(recovery):
                self.set_document(document)
                target = self
            else:
                target = MainWindow(
                    document,
                    settings=self.settings,
                    recovery_dir=self.recovery_dir,
                    autosave_interval_ms=self._autosave_interval_ms,
                )
                _extra_windows.append(target)
                target.show()
            target.autosaver.save_now()
            recovery.discard()
            restored += 1
        return restored

    def _can_hold(self, recovery: Recovery) -> bool:
        """Whether a restored document may replace this window's (unmodified, and not another
        project the user asked to open)."""
        if self.document.modified:
            return False
        path = self.document.path
        return path is None or path == recovery.project_path

    # --- closing ------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self._closed:
            event.accept()
            return
        if not self.maybe_save_changes():
            event.ignore()
            return
        self._closed = True
        self._save_layout()
        self.autosaver.stop()
        self.undo_group.removeStack(self.document.undo_stack)
        self.document.close()
        event.accept()
        if self in _extra_windows:
            _extra_windows.remove(self)

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME}</h3><p>Build Keras models as node graphs, train them and export them "
            "to phones, browsers, servers and ONNX.</p>",
        )
