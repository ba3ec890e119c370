"""The "Add Remote" form: every setting of ``layerloom remote add``, saved through the workbench.

OK saves with ``add_remote`` (checked there, not contacted); a refusal ("'local' cannot name a
remote", "port 70000 is not a TCP port") is shown under the fields in one line and the form stays
open. Nothing secret is asked for: a key is named by its file, never read or stored.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.training.offthread import one_line
from layerloom.app.workbench import remotes as workbench_remotes


def parse_env(text: str) -> dict[str, str]:
    """``KEY=VALUE`` pairs separated by spaces or new lines."""
    env = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep:
            raise workbench_remotes.RemoteError(f"{word!r} is not KEY=VALUE")
        env[key] = value
    return env


class RemoteForm(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add Remote")
        self.added = None  # the saved Remote, once OK succeeded
        self.name = QLineEdit()
        self.name.setPlaceholderText("tpu1")
        self.host = QLineEdit()
        self.host.setPlaceholderText("an ssh alias, a host name or user@host")
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("default (22 or ssh config)")
        self.user = QLineEdit()
        self.user.setPlaceholderText("from the host or ssh config")
        self.identity = QLineEdit()
        self.identity.setPlaceholderText("your ssh agent / config")
        self.known_hosts = QLineEdit()
        self.known_hosts.setPlaceholderText("~/.ssh/known_hosts")
        self.python = QLineEdit()
        self.python.setPlaceholderText("the venv `Set Up` makes")
        self.workdir = QLineEdit()
        self.workdir.setPlaceholderText("~/layerloom")
        self.accelerator = QComboBox()
        self.accelerator.addItems(list(workbench_remotes.ACCELERATORS))
        self.keras_backend = QComboBox()
        self.keras_backend.addItems(list(workbench_remotes.KERAS_BACKENDS))
        self.env = QLineEdit()
        self.env.setPlaceholderText("KEY=VALUE KEY2=VALUE")
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()

        form = QFormLayout()
        for label, field in (
            ("Name", self.name),
            ("Host", self.host),
            ("Port", self.port),
            ("User", self.user),
            ("Identity file", self._with_browse(self.identity, "Identity File")),
            ("known_hosts file", self._with_browse(self.known_hosts, "known_hosts File")),
            ("Python", self.python),
            ("Work folder", self.workdir),
            ("Accelerator", self.accelerator),
            ("Keras backend", self.keras_backend),
            ("Environment", self.env),
        ):
            form.addRow(label, field)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 70, self.sizeHint().height())

    def _with_browse(self, field: QLineEdit, title: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(field, 1)
        browse = QPushButton("Browse…")
        browse.setAccessibleName(f"Browse for the {title.lower()}")

        def pick() -> None:
            path, _ = QFileDialog.getOpenFileName(self, title)
            if path:
                field.setText(path)

        browse.clicked.connect(pick)
        row.addWidget(browse)
        return box

    def settings(self) -> dict:
        def text(field: QLineEdit) -> str | None:
            return field.text().strip() or None

        return {
            "port": self.port.value() or None,
            "user": text(self.user),
            "identity": text(self.identity),
            "known_hosts": text(self.known_hosts),
            "python": text(self.python),
            "workdir": text(self.workdir),
            "accelerator": self.accelerator.currentText(),
            "keras_backend": self.keras_backend.currentText(),
            "env": parse_env(self.env.text()) or None,
        }

    def accept(self) -> None:
        try:
            self.added = workbench_remotes.add_remote(
                self.name.text().strip(), self.host.text().strip(), **self.settings()
            )
        except Exception as error:  # a setting the workbench refuses: say which, stay open
            self.error.setText(one_line(error))
            self.error.show()
            return
        super().accept()
