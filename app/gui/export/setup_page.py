"""The Export dialog's setup page: where the export comes from (run, checkpoint), where it goes
(folder), the chosen target's options, what the target says before exporting, and one message
line. Widgets only; the dialog connects and drives them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)


def section(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "section")
    return label


def _note(name: str, role: str | None = None) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setAccessibleName(name)
    if role:
        label.setProperty("role", role)
    label.hide()
    return label


class SetupPage(QWidget):
    # The parts the dialog reads and drives.
    PARTS = (
        "run_combo",
        "run_note",
        "checkpoint_combo",
        "folder_edit",
        "browse_button",
        "options_heading",
        "no_options",
        "options",
        "estimate",
        "message",
    )

    def __init__(self, parent=None):
        super().__init__(parent)
        self.run_combo = QComboBox()
        self.run_combo.setAccessibleName("Run")
        self.checkpoint_combo = QComboBox()
        self.checkpoint_combo.setAccessibleName("Checkpoint")
        self.checkpoint_combo.setToolTip(
            "best: the weights of the epoch with the best validation score; last: the final ones"
        )
        self.folder_edit = QLineEdit()
        self.folder_edit.setAccessibleName("Output folder")
        self.browse_button = QPushButton("Browse…")
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(0, 0, 0, 0)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        source = QFormLayout()
        source.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        source.addRow("Run", self.run_combo)
        source.addRow("Checkpoint", self.checkpoint_combo)
        source.addRow("Folder", folder_row)

        self.options_heading = section("Options")
        self.no_options = QLabel("This target has no options.")
        self.no_options.setProperty("role", "secondary")
        self.options = QStackedWidget()
        self.options.addWidget(self.no_options)
        self.estimate = _note("Before export", "secondary")  # e.g. a microcontroller's flash/RAM
        self.message = _note("Export message")
        self.run_note = _note("Why this run", "secondary")  # the default run, and why

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(section("From"))
        layout.addLayout(source)
        layout.addWidget(self.run_note)
        layout.addWidget(self.options_heading)
        layout.addWidget(self.options)
        layout.addWidget(self.estimate)
        layout.addWidget(self.message)
        layout.addStretch(1)
