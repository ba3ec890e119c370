"""File ▸ Import…: a Keras model file or application becomes a new project, then opens.

``ImportDialog`` asks what to import (a ``.keras``/``.h5`` file, or a Keras application with its
input shape, classes and an optional weights file) and where the project goes. The import itself
(``app.workbench.importing.import_model``, a worker process: the warm TensorFlow worker, held while
the dialog is open) runs on a thread while a busy dialog waits; its report (sizes, parity, the
imported run, each placeholder with what it blocks) is shown before the new project opens.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.workbench import warm_worker
from layerloom.app.workbench.importing import APPLICATION_NAMES, APPLICATIONS

MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5)"


def _with_browse(field: QLineEdit, browse) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(field, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    layout.addWidget(button)
    return row


class ImportDialog(QDialog):
    """What to import and where the new project goes."""

    def __init__(self, parent=None, start: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import Keras Model")
        self.start = start or Path.home()
        self.from_file = QRadioButton("A model file (.keras, legacy .h5)")
        self.from_app = QRadioButton("A Keras application (built without downloading weights)")
        group = QButtonGroup(self)
        group.addButton(self.from_file)
        group.addButton(self.from_app)
        self.from_file.setChecked(True)
        self.model_path = QLineEdit()
        self.model_path.setPlaceholderText("model.keras")
        self.application = QComboBox()
        self.application.addItems(APPLICATION_NAMES)
        self.input_shape = QLineEdit()
        self.input_shape.setPlaceholderText("default, e.g. 224,224,3")
        self.classes = QSpinBox()
        self.classes.setRange(0, 100_000)
        self.classes.setSpecialValueText("default (1000)")
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("none: random initial weights")
        self.target = QLineEdit()
        self.target.setPlaceholderText("imported.loom")

        form = QFormLayout()
        form.addRow(self.from_file)
        form.addRow("Model file:", _with_browse(self.model_path, self._browse_model))
        form.addRow(self.from_app)
        form.addRow("Application:", self.application)
        form.addRow("Input shape:", self.input_shape)
        form.addRow("Classes:", self.classes)
        form.addRow("Weights file:", _with_browse(self.weights, self._browse_weights))
        form.addRow("New project:", _with_browse(self.target, self._browse_target))
        note = QLabel(
            "Layers without a node type (a Lambda, a custom class) become placeholders: they are "
            "shown and listed, never run; training and export refuse them."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.from_file.toggled.connect(self._sync)
        self._sync()
        self.resize(560, self.sizeHint().height())

    def _sync(self) -> None:
        on_file = self.from_file.isChecked()
        self.model_path.setEnabled(on_file)
        for widget in (self.application, self.input_shape, self.classes, self.weights):
            widget.setEnabled(not on_file)

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Keras Model", str(self.start), MODEL_FILTER)
        if path:
            self.model_path.setText(path)
            if not self.target.text():
                self.target.setText(str(Path(path).with_suffix(".loom")))

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Weights File", str(self.start), MODEL_FILTER)
        if path:
            self.weights.setText(path)

    def _browse_target(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "New Project", str(self.start / "imported.loom"), "Layerloom projects (*.loom)"
        )
        if path:
            self.target.setText(path)

    def request(self) -> dict:
        """The ``import_model`` arguments; ValueError saying which field is wrong."""
        target = self.target.text().strip()
        if not target:
            raise ValueError("choose where the new project goes")
        target_path = Path(target)
        if target_path.suffix != ".loom":
            target_path = target_path.with_name(target_path.name + ".loom")
        if self.from_file.isChecked():
            source = self.model_path.text().strip()
            if not source:
                raise ValueError("choose a .keras or .h5 model file")
            return {"source": source, "out_path": target_path}
        shape = None
        if self.input_shape.text().strip():
            try:
                shape = tuple(int(p) for p in self.input_shape.text().split(","))
            except ValueError:
                raise ValueError("input shape takes sizes like 224,224,3") from None
        return {
            "source": APPLICATIONS + self.application.currentText(),
            "out_path": target_path,
            "input_shape": shape,
            "classes": self.classes.value() or None,
            "weights": self.weights.text().strip() or None,
        }


class ImportReportDialog(QDialog):
    """The import report, as the CLI prints it."""

    def __init__(self, report, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import Report")
        text = QPlainTextEdit("\n".join(report.lines()))
        text.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Open Project")
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        title = f"{report.path.name}: {report.nodes} nodes, {report.params:,} parameters"
        if report.placeholders:
            title += f", {len(report.placeholders)} placeholder(s) blocking training and export"
        layout.addWidget(QLabel(title))
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.resize(640, 320)


def run_import(parent, request: dict):
    """``import_model(**request)`` on a thread while a busy dialog waits; the report, or raises
    the import's error."""
    from layerloom.app.workbench.importing import import_model

    outcome: dict = {}

    def work() -> None:
        try:
            outcome["report"] = import_model(**request)
        except Exception as error:  # noqa: BLE001 - shown by the caller
            outcome["error"] = error

    busy = QProgressDialog(f"Importing {request['source']}…", None, 0, 0, parent)
    busy.setWindowTitle("Import")
    busy.setMinimumDuration(0)
    thread = threading.Thread(target=work, daemon=True)
    timer = QTimer(busy)
    timer.timeout.connect(lambda: None if thread.is_alive() else busy.accept())
    thread.start()
    timer.start(100)
    busy.exec()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["report"]


class ImportCommandsMixin:
    """File ▸ Import… for the main window."""

    def import_model(self) -> bool:
        start = self.document.path.parent if self.document.path else Path.home()
        opened = self.document.opened
        # The import job runs on the warm TensorFlow worker (a local job takes it when its device
        # matches). Held while the dialog is open: an untitled window has none, and this way its
        # TensorFlow import overlaps the user filling in the dialog.
        held = warm_worker.hold(opened)
        try:
            dialog = ImportDialog(self, start)
            while dialog.exec() == QDialog.DialogCode.Accepted:
                try:
                    request = dialog.request()
                except ValueError as error:
                    self.show_error("Import", str(error))
                    continue
                request["device"] = warm_worker.device_for(opened)
                try:
                    report = run_import(self, request)
                except Exception as error:  # noqa: BLE001 - a bad file must not take the app down
                    self.show_error("Could Not Import", str(error))
                    continue
                ImportReportDialog(report, self).exec()
                return self.open_document(report.path)
            return False
        finally:
            if held:  # after the new project holds its own: the replacement worker stays
                warm_worker.release()
