"""Everything the main window asks a user, in one place: tests replace exactly these methods.

Each returns a plain value (a choice, a path, a template name, a yes/no), so the window's logic can be
driven without dialogs; the real implementations are QMessageBox/QFileDialog calls.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from layerloom.app.gui.autosave import Recovery
from layerloom.app.gui.dialogs import choose_template
from layerloom.app.gui.wording import gui_text

APP_NAME = "Layerloom"
FILE_FILTER = "Layerloom projects (*.loom);;All files (*)"


class PromptsMixin:
    """Mixed into MainWindow (a QWidget with ``document``)."""

    def ask_save_changes(self) -> str:
        """One of "save", "discard" or "cancel"."""
        name = self.document.path.name if self.document.path else "Untitled"
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(APP_NAME)
        box.setText(f"Save changes to “{name}” before closing?")
        box.setInformativeText("Your changes will be lost if you don't save them.")
        Button = QMessageBox.StandardButton
        box.setStandardButtons(Button.Save | Button.Discard | Button.Cancel)
        box.setDefaultButton(Button.Save)
        choice = box.exec()
        return {Button.Save: "save", Button.Discard: "discard"}.get(
            QMessageBox.StandardButton(choice), "cancel"
        )

    def ask_save_path(self) -> str | None:
        start = str(self.document.path or Path.home() / "Untitled.loom")
        path, _ = QFileDialog.getSaveFileName(self, "Save Project As", start, FILE_FILTER)
        return path or None

    def ask_open_path(self) -> str | None:
        start = str(self.document.path.parent) if self.document.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open Project", start, FILE_FILTER)
        return path or None

    def ask_template(self) -> str | None:
        """A template name, "" for an empty project, or None when cancelled."""
        return choose_template(self)

    def ask_restore(self, recovery: Recovery) -> bool:
        Button = QMessageBox.StandardButton
        choice = QMessageBox.question(
            self,
            "Restore Unsaved Changes",
            f"Layerloom did not close normally. Restore {recovery.label}?",
            Button.Yes | Button.Discard,
            Button.Yes,
        )
        return choice == Button.Yes

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.critical(self, title, gui_text(message))
