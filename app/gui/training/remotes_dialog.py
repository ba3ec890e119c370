"""Run ▸ Remotes…: the user's remotes (remotes.toml) listed with their state; Add, Remove, Check and
Set Up.

Check and Set Up reach the host over SSH, so they run off the GUI thread (``offthread``); Set Up's
progress lines (``setup_remote``'s ``progress``) are appended to the output as they come, and
"Stop Waiting" stops following it (the host may finish installing on its own; nothing it says
after that is shown). Every error appears as the workbench's one line, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from layerloom.app.gui.training.offthread import Task, one_line, run_off_thread
from layerloom.app.gui.training.remote_form import RemoteForm
from layerloom.app.gui.training.remote_state import FAILED, READY, remote_states
from layerloom.app.workbench import remotes as workbench_remotes

COLUMNS = ("Name", "Host", "Accelerator", "State")


class RemotesDialog(QDialog):
    remotes_changed = Signal()  # added or removed: the backend chooser lists them again

    def __init__(self, states=None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Remotes")
        self.states = states or remote_states()
        self.setup_task: Task | None = None
        self.form: RemoteForm | None = None

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Remotes")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton("Add…")
        self.remove_button = QPushButton("Remove")
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Connect, verify the host key and ask what the host has")
        self.setup_button = QPushButton("Set Up")
        self.setup_button.setToolTip(
            "Make a runtime venv on the host with this very Layerloom (TensorFlow is large)"
        )
        self.cancel_button = QPushButton("Stop Waiting")
        self.cancel_button.setToolTip("Stop following the set-up (the host may finish it anyway)")
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove)
        self.check_button.clicked.connect(self.check)
        self.setup_button.clicked.connect(lambda: self.set_up())
        self.cancel_button.clicked.connect(self.cancel_setup)
        side = QVBoxLayout()
        for button in (self.add_button, self.remove_button, self.check_button, self.setup_button):
            side.addWidget(button)
        side.addStretch(1)

        self.wheelhouse = QLineEdit()
        self.wheelhouse.setPlaceholderText(
            "optional: a folder of wheels, for hosts without an index"
        )
        self.wheelhouse.setAccessibleName("Wheelhouse")
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setAccessibleName("Set-up output")
        self.output.setMaximumBlockCount(2000)
        self.output.setPlaceholderText("Set Up's progress appears here.")

        top = QHBoxLayout()
        top.addWidget(self.table, 1)
        top.addLayout(side)
        wheel_row = QHBoxLayout()
        wheel_row.addWidget(QLabel("Wheelhouse"))
        wheel_row.addWidget(self.wheelhouse, 1)
        wheel_row.addWidget(self.cancel_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        hint = QLabel(
            "Remotes are yours (kept in your remotes.toml, never in a project). A host is an "
            "alias from ~/.ssh/config or user@host; its key must already be in known_hosts."
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "secondary")
        layout.addWidget(hint)
        layout.addLayout(top, 3)
        layout.addWidget(self.result)
        layout.addLayout(wheel_row)
        layout.addWidget(self.output, 2)
        layout.addWidget(buttons)
        line = self.fontMetrics().height()
        self.resize(line * 48, line * 30)
        self.states.changed.connect(self._on_state)
        self.reload()

    # --- the list ---------------------------------------------------------------------------
    def reload(self) -> None:
        selected = self.selected()
        try:
            remotes = workbench_remotes.list_remotes()
        except Exception as error:
            remotes = []
            self.show_result(one_line(error), error=True)
        self.table.setRowCount(len(remotes))
        for row, remote in enumerate(remotes):
            host = remote.target.describe()
            for column, text in enumerate((remote.name, host, remote.accelerator, "")):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, remote.name)
                self.table.setItem(row, column, item)
            self._show_state(row, remote.name)
        names = self.names()
        if selected in names:
            self.table.selectRow(names.index(selected))
        elif names:
            self.table.selectRow(0)
        self._update_buttons()

    def names(self) -> list[str]:
        return [self.table.item(row, 0).text() for row in range(self.table.rowCount())]

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.table.item(rows[0].row(), 0).text() if rows else None

    def select(self, name: str) -> None:
        self.table.selectRow(self.names().index(name))

    def state_text(self, name: str) -> str:
        return self.table.item(self.names().index(name), 3).text()

    def _show_state(self, row: int, name: str) -> None:
        state = self.states.state(name)
        item = self.table.item(row, 3)
        item.setText(state.text)
        item.setToolTip(state.text)

    def _on_state(self, name: str) -> None:
        if name in self.names():
            self._show_state(self.names().index(name), name)
            if name == self.selected():
                state = self.states.state(name)
                if state.state in (READY, FAILED):
                    self.show_result(f"{name}: {state.text}", error=state.state == FAILED)
        self._update_buttons()

    def _update_buttons(self) -> None:
        name = self.selected()
        busy = self.setup_task is not None
        self.remove_button.setEnabled(name is not None and not busy)
        self.check_button.setEnabled(name is not None and not self.states.checking(name))
        self.setup_button.setEnabled(name is not None and not busy)
        self.cancel_button.setEnabled(busy)

    def show_result(self, text: str, error: bool = False) -> None:
        self.result.setText(text)
        self.result.setProperty("role", "error" if error else "")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)

    # --- commands ---------------------------------------------------------------------------
    def add(self) -> RemoteForm:
        """Open the Add Remote form (window-modal, not blocking: tests fill it in)."""
        self.form = RemoteForm(self)
        self.form.accepted.connect(self._on_added)
        self.form.open()
        return self.form

    def _on_added(self) -> None:
        remote = self.form.added if self.form is not None else None
        if remote is None:
            return
        self.states.forget(remote.name)
        self.reload()
        self.select(remote.name)
        self.show_result(f"added {remote.name} ({remote.target.describe()}); Check it next")
        self.remotes_changed.emit()

    def remove(self) -> None:
        name = self.selected()
        if name is None:
            return
        try:
            workbench_remotes.remove_remote(name)
        except Exception as error:
            self.show_result(one_line(error), error=True)
            return
        self.states.forget(name)
        self.reload()
        self.show_result(f"removed {name}")
        self.remotes_changed.emit()

    def check(self) -> None:
        name = self.selected()
        if name is not None:
            self.show_result(f"{name}: checking…")
            self.states.check(name)

    def set_up(self, wheelhouse: str | None = None) -> None:
        name = self.selected()
        if name is None or self.setup_task is not None:
            return
        folder = wheelhouse or self.wheelhouse.text().strip() or None
        self.output.clear()
        self.show_result(f"{name}: setting up…")

        def done(python, error) -> None:
            self.setup_task = None
            if error:
                self.output.appendPlainText(f"failed: {error}")
                self.show_result(f"{name}: {error}", error=True)
            else:
                self.show_result(f"{name}: set up; jobs run with {python}")
                self.states.check(name)
            self._update_buttons()

        self.setup_task = run_off_thread(
            lambda report: workbench_remotes.setup_remote(
                name, Path(folder) if folder else None, report
            ),
            done,
            progress=self.output.appendPlainText,
            name="layerloom-setup",
        )
        self._update_buttons()

    def cancel_setup(self) -> None:
        if self.setup_task is None:
            return
        self.setup_task.cancel()
        self.setup_task = None
        self.output.appendPlainText("stopped waiting (the host may still finish the set-up)")
        self.show_result("set-up no longer followed")
        self._update_buttons()
