"""Where the next run trains: "This machine" or one of the user's remotes, with its state.

A combo box lists "This machine" and every remote of ``list_remotes()`` (per user, in
remotes.toml), each with what its last check found ("ready, gpu ×4", "cannot be used"); the line
beside it says it in full ("ready: gpu, 4 devices, Layerloom 0.1.0", or the one-line refusal).
Choosing a remote checks it (off the GUI thread, through ``RemoteStates``); "Check" checks again.

The choice is remembered per project and per user (QSettings, keyed by the project's path): it
names a remote of this user's, so it does not belong in the shareable project file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from layerloom.app.gui.training.remote_state import CHECKING, FAILED, READY, remote_states
from layerloom.app.workbench import remotes as workbench_remotes

LOCAL_LABEL = "This machine"
SETTINGS_GROUP = "trainingBackend"


def _settings_key(path: Path | None) -> str:
    if path is None:
        return f"{SETTINGS_GROUP}/untitled"
    digest = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return f"{SETTINGS_GROUP}/{digest}"


class BackendChooser(QWidget):
    choice_changed = Signal(object)  # the remote's name, or None for this machine
    manage_requested = Signal()  # "Remotes…"

    def __init__(self, states=None, parent=None) -> None:
        super().__init__(parent)
        self.states = states or remote_states()
        self.path: Path | None = None
        self.problem: str | None = None  # remotes.toml could not be read
        self.combo = QComboBox()
        self.combo.setAccessibleName("Train on")
        self.combo.setToolTip("Where the next run trains: this machine or one of your remotes")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status = QLabel()
        self.status.setProperty("role", "secondary")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Connect to the remote and ask what it has")
        self.manage_button = QPushButton("Remotes…")
        self.manage_button.setToolTip("Add, check, set up or remove remotes")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(6)
        label = QLabel("Train on")
        label.setBuddy(self.combo)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(self.check_button)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.manage_button)
        self.combo.currentIndexChanged.connect(self._on_chosen)
        self.check_button.clicked.connect(self.check)
        self.manage_button.clicked.connect(self.manage_requested)
        self.states.changed.connect(self._on_state)
        self.reload()

    # --- what is offered --------------------------------------------------------------------
    def reload(self) -> None:
        """List the remotes again (after the Remotes dialog changed them), keeping the choice."""
        current = self.remote()
        try:
            names = [remote.name for remote in workbench_remotes.list_remotes()]
            self.problem = None
        except Exception as error:  # a broken remotes.toml: say so, train here meanwhile
            names, self.problem = [], str(error)
        blocked = self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(LOCAL_LABEL, None)
        for name in names:
            self.combo.addItem(name, name)
            self._label(name)
        index = self.combo.findData(current) if current else 0
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(blocked)
        self._show()
        if self.remote() != current:
            self.choice_changed.emit(self.remote())

    def remotes(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(1, self.combo.count())]

    def remote(self) -> str | None:
        """The chosen remote's name; None for this machine."""
        return self.combo.currentData()

    def choose(self, remote: str | None) -> bool:
        index = self.combo.findData(remote) if remote else 0
        if index < 0:
            return False
        self.combo.setCurrentIndex(index)
        return True

    def check(self) -> None:
        if self.remote() is not None:
            self.states.check(self.remote())

    # --- per project ------------------------------------------------------------------------
    def set_project(self, path: Path | None) -> None:
        """Show the choice remembered for ``path`` (this machine when none, or its remote is
        gone)."""
        self.path = path
        remembered = QSettings().value(_settings_key(path))
        blocked = self.combo.blockSignals(True)
        found = self.choose(str(remembered) if remembered else None)
        if not found:
            self.combo.setCurrentIndex(0)
        self.combo.blockSignals(blocked)
        self._show()
        self._check_if_unknown()

    def remember(self) -> None:
        """Store the choice for the project (called once it has a path, at Train)."""
        QSettings().setValue(_settings_key(self.path), self.remote() or "")

    # --- showing state ----------------------------------------------------------------------
    def _label(self, name: str) -> None:
        index = self.combo.findData(name)
        if index >= 0:
            state = self.states.state(name)
            self.combo.setItemText(index, f"{name} — {state.short}")
            self.combo.setItemData(index, state.text, 3)  # Qt.ToolTipRole

    def _on_state(self, name: str) -> None:
        self._label(name)
        if name == self.remote():
            self._show()

    def _on_chosen(self, _index: int) -> None:
        self._show()
        self._check_if_unknown()
        self.remember()
        self.choice_changed.emit(self.remote())

    def _check_if_unknown(self) -> None:
        name = self.remote()
        if name is not None and self.states.state(name).state not in (READY, CHECKING):
            self.states.check(name)

    def _show(self) -> None:
        name = self.remote()
        self.check_button.setEnabled(name is not None and not self.states.checking(name))
        if name is None:
            text = f"remotes.toml: {self.problem}" if self.problem else "the local worker"
            role = "error" if self.problem else "secondary"
        else:
            state = self.states.state(name)
            text = state.text
            role = {FAILED: "error", READY: "ok"}.get(state.state, "secondary")
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setProperty("role", role)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def status_text(self) -> str:
        return self.status.text()
