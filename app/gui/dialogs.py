"""Small dialogs and persistent lists: the New-project template chooser and the recent-files list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from layerloom.nodes.templates import list_templates

EMPTY_TEMPLATE = ""  # what the chooser returns for "Empty" (None means cancelled)
MAX_RECENT = 10
RECENT_KEY = "recentFiles"
ACRONYMS = {"cnn", "mlp", "lstm", "gru", "rnn"}


def template_title(name: str) -> str:
    """``residual_cnn`` -> ``Residual CNN``."""
    words = [w.upper() if w in ACRONYMS else w for w in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


class TemplateDialog(QDialog):
    """Pick a starter template for a new project (or Empty)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New Project")
        self.list = QListWidget()
        self.list.setAccessibleName("Templates")
        self.list.setWordWrap(True)
        self.list.setSpacing(3)
        empty = QListWidgetItem("Empty\nStart from a blank canvas")
        empty.setData(Qt.ItemDataRole.UserRole, EMPTY_TEMPLATE)
        self.list.addItem(empty)
        for info in list_templates():
            item = QListWidgetItem(f"{template_title(info.name)}\n{info.description}")
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start from a template:"))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        line = self.fontMetrics().height()
        self.resize(line * 40, line * 30)

    def template(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)


def choose_template(parent=None) -> str | None:
    dialog = TemplateDialog(parent)
    return dialog.template() if dialog.exec() == QDialog.DialogCode.Accepted else None


class RecentFiles:
    """Most-recently-used project paths in QSettings: newest first, at most 10, missing pruned."""

    def __init__(self, settings: QSettings | None = None):
        self.settings = settings or QSettings()

    def _read(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [str(v) for v in value or []]

    def paths(self) -> list[Path]:
        stored = self._read()
        present = [p for p in stored if Path(p).is_file()]
        if present != stored:
            self.settings.setValue(RECENT_KEY, present)
        return [Path(p) for p in present]

    def add(self, path: str | Path) -> None:
        entry = str(Path(path).resolve())
        paths = [entry] + [p for p in self._read() if p != entry]
        self.settings.setValue(RECENT_KEY, paths[:MAX_RECENT])

    def clear(self) -> None:
        self.settings.setValue(RECENT_KEY, [])
