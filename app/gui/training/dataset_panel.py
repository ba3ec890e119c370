"""The Data tab: the project's dataset, a preview of it, and a form to choose another.

It does what ``layerloom data`` does, with the same functions: a spec from CLI-style options
(``spec_from_options``), ``open_source`` → ``preview`` → ``check`` against the graph's BuildPlan,
and only then ``store_dataset_spec`` (paths relative to the project when the data lives beside
it). "Check" previews and checks without storing. Errors are one line in the panel; nothing is
stored when any step fails. NumPy and pure Python only: no TensorFlow here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.theme import SHEET_COLOURS
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import (
    SAMPLES,
    DatasetError,
    dataset_spec_for,
    open_source,
    sample_for_template,
    spec_from_options,
    store_dataset_spec,
    stored_dataset_spec,
)
from layerloom.nodes.errors import CompileError

PREVIEW_ROWS = 5
KINDS = [  # (spec kind, label, what the path is)
    ("sample", "Built-in sample", None),
    ("csv", "CSV or TSV file", "a CSV or TSV file"),
    ("images", "Image folder", "an image folder"),
    ("npz", "NumPy .npz", "an .npz file"),
]
FILTERS = {
    "csv": "Tables (*.csv *.tsv *.tab *.txt);;All files (*)",
    "npz": "NumPy archives (*.npz);;All files (*)",
}


def describe_spec(spec: dict) -> str:
    """One line for a spec: its kind and name or path, then its other fields."""
    kind = spec.get("kind", "?")
    what = spec.get("name") if kind == "sample" else spec.get("path")
    rest = {k: v for k, v in spec.items() if k not in ("kind", "name", "path") and v is not None}
    extra = "  " + json.dumps(rest) if rest else ""
    return f"{kind} {what}{extra}"


def read_header(path: str | Path) -> list[str]:
    """The column names on a CSV/TSV file's first line (tab-separated for .tsv/.tab)."""
    path = Path(path)
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [name.strip() for name in next(csv.reader(handle, delimiter=delimiter), [])]


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class DatasetPanel(QWidget):
    def __init__(self, document=None, parent=None):
        super().__init__(parent)
        self.document = None
        self._stale = True

        self.current = QLabel()
        self.current.setWordWrap(True)
        self.current.setAccessibleName("Current dataset")
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setAccessibleName("Dataset preview")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Dataset check")
        self.error: str | None = None

        # --- the source chooser -----------------------------------------------------------
        self.kind = QComboBox()
        self.kind.setAccessibleName("Dataset kind")
        self.pages = QStackedWidget()
        for kind, label, _what in KINDS:
            self.kind.addItem(label, kind)
        self.kind.currentIndexChanged.connect(self.pages.setCurrentIndex)

        self.sample = QComboBox()
        self.sample.setAccessibleName("Sample")
        for name, description in SAMPLES.items():
            self.sample.addItem(name, name)
            self.sample.setItemData(
                self.sample.count() - 1, description, Qt.ItemDataRole.ToolTipRole
            )
        self.sample_about = QLabel()
        self.sample_about.setWordWrap(True)
        self.sample_about.setProperty("role", "secondary")
        self.sample.currentIndexChanged.connect(
            lambda: self.sample_about.setText(SAMPLES.get(self.sample.currentData(), ""))
        )
        self.sample_about.setText(SAMPLES.get(self.sample.currentData(), ""))
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Sample", self.sample)
        form.addRow("", self.sample_about)
        self.pages.addWidget(page)

        self.paths: dict[str, QLineEdit] = {}
        self.target = QComboBox()
        self.target.setAccessibleName("Target column")
        self.features = QLineEdit()
        self.features.setPlaceholderText("all other columns (comma-separated names)")
        self.features.setAccessibleName("Feature columns")
        self.x_name = QLineEdit("x")
        self.y_name = QLineEdit("y")
        for kind, _label, _what in KINDS[1:]:
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            form.addRow("Folder" if kind == "images" else "File", self._path_row(kind))
            if kind == "csv":
                form.addRow("Target", self.target)
                form.addRow("Features", self.features)
            elif kind == "npz":
                form.addRow("Inputs (x)", self.x_name)
                form.addRow("Targets (y)", self.y_name)
            self.pages.addWidget(page)
        self.paths["csv"].editingFinished.connect(self.load_columns)

        # --- the split and the buttons ----------------------------------------------------
        self.validation = self._ratio(0.2, "Validation ratio")
        self.test = self._ratio(0.1, "Test ratio")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(42)
        self.seed.setAccessibleName("Split seed")
        split = QHBoxLayout()
        for label, widget in (("Validation", self.validation), ("Test", self.test)):
            split.addWidget(QLabel(label))
            split.addWidget(widget)
        split.addWidget(QLabel("Seed"))
        split.addWidget(self.seed, 1)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Preview and check the chosen data without storing it")
        self.check_button.clicked.connect(lambda: self.check())
        self.use_button = QPushButton("Use this dataset")
        self.use_button.setToolTip("Check the chosen data, then store it in the project")
        self.use_button.clicked.connect(lambda: self.use())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.use_button)

        chooser = QWidget()
        left = QVBoxLayout(chooser)
        left.setContentsMargins(0, 0, 0, 0)
        source = QFormLayout()
        source.addRow("Source", self.kind)
        left.addLayout(source)
        left.addWidget(self.pages)
        left.addLayout(split)
        left.addLayout(buttons)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.current)
        right.addWidget(self.preview, 1)
        right.addWidget(self.status)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(chooser, 2)
        layout.addLayout(right, 3)
        self.set_document(document)

    def _path_row(self, kind: str) -> QWidget:
        edit = QLineEdit()
        edit.setAccessibleName(f"{kind} path")
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self.browse(kind))
        self.paths[kind] = edit
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit, 1)
        box.addWidget(browse)
        return row

    @staticmethod
    def _ratio(value: float, name: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 0.9)
        box.setSingleStep(0.05)
        box.setDecimals(2)
        box.setValue(value)
        box.setAccessibleName(name)
        return box

    # --- the document -------------------------------------------------------------------------
    @property
    def opened(self):
        return None if self.document is None else self.document.opened

    def set_document(self, document) -> None:
        """Show ``document``'s dataset the next time the panel is shown (or now, if visible)."""
        self.document = document
        self._stale = True
        if document is not None and hasattr(document, "path_changed"):
            # Saved for the first time (or elsewhere): stored specs now resolve against it.
            document.path_changed.connect(lambda doc=document: self._document_moved(doc))
        self.preview.clear()
        self._show_status("")
        self.current.setText("")
        if self.isVisible():
            self.refresh()

    def _document_moved(self, document) -> None:
        if document is self.document and shiboken6.isValid(self):
            self._stale = True
            if self.isVisible():
                self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _base_dir(self) -> Path | None:
        path = None if self.document is None else self.document.path
        return None if path is None else Path(path).resolve().parent

    def current_spec(self) -> tuple[dict | None, dict | None]:
        """(the stored spec or None, the spec to open: stored with absolute paths or the
        template's sample, or None when there is none)."""
        opened = self.opened
        if opened is not None:
            stored = stored_dataset_spec(opened)
            try:
                return stored, dataset_spec_for(opened)
            except DatasetError:
                return stored, None
        template = getattr(self.document, "template", None)
        return None, sample_for_template(template) if template else None

    def refresh(self) -> None:
        """Show the project's current dataset, its preview and how it fits the graph."""
        self._stale = False
        if self.document is None:
            return
        try:
            stored, spec = self.current_spec()
        except Exception as error:
            self.current.setText("Dataset: unknown")
            self._show_status(_one_line(error), error=True)
            return
        if spec is None:
            self.current.setText("No dataset yet: choose one and press “Use this dataset”.")
            self.preview.clear()
            self._show_status("")
            return
        if stored is None:
            self.current.setText(f"Dataset: the template's sample: {spec.get('name')}")
        else:
            self.current.setText(f"Dataset: {describe_spec(stored)}")
        self._fill_form(stored or spec)
        self._evaluate(spec)

    def _fill_form(self, spec: dict) -> None:
        kinds = [kind for kind, _label, _what in KINDS]
        kind = spec.get("kind")
        if kind not in kinds:
            return
        self.kind.setCurrentIndex(kinds.index(kind))
        if kind == "sample":
            index = self.sample.findData(spec.get("name"))
            if index >= 0:
                self.sample.setCurrentIndex(index)
        elif isinstance(spec.get("path"), str):
            self.paths[kind].setText(spec["path"])
        if kind == "csv":
            self.load_columns(quiet=True)
            if spec.get("target"):
                self._select_target(str(spec["target"]))
            features = spec.get("features")
            self.features.setText(", ".join(features) if isinstance(features, list) else "")
        if kind == "npz":
            for edit, key in ((self.x_name, "x"), (self.y_name, "y")):
                if isinstance(spec.get(key), str):
                    edit.setText(spec[key])
        split = spec.get("split") or {}
        for box, key in ((self.validation, "validation"), (self.test, "test")):
            if isinstance(split.get(key), (int, float)):
                box.setValue(float(split[key]))
        if isinstance(split.get("seed"), int):
            self.seed.setValue(split["seed"])

    # --- choosing -----------------------------------------------------------------------------
    def ask_path(self, kind: str) -> str | None:
        """The file or folder the user picks for ``kind`` (tests replace this)."""
        start = str(self._base_dir() or "")
        if kind == "images":
            path = QFileDialog.getExistingDirectory(self, "Choose an image folder", start)
        else:
            path, _filter = QFileDialog.getOpenFileName(
                self, "Choose a data file", start, FILTERS.get(kind, "")
            )
        return path or None

    def browse(self, kind: str) -> None:
        path = self.ask_path(kind)
        if not path:
            return
        self.paths[kind].setText(str(path))
        if kind == "csv":
            self.load_columns()

    def _resolved_path(self, kind: str) -> Path | None:
        text = self.paths[kind].text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        base = self._base_dir()
        return path if path.is_absolute() or base is None else base / path

    def load_columns(self, quiet: bool = False) -> list[str]:
        """Fill the target combo from the CSV file's header line (the last column chosen)."""
        path = self._resolved_path("csv")
        previous = self.target.currentText()
        self.target.clear()
        if path is None:
            return []
        try:
            columns = read_header(path)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            if not quiet:
                self._show_status(f"cannot read the header of {path.name}: {error}", error=True)
            return []
        self.target.addItems(columns)
        if columns:
            self._select_target(previous if previous in columns else columns[-1])
        return columns

    def _select_target(self, name: str) -> None:
        index = self.target.findText(name)
        if index < 0:
            self.target.addItem(name)
            index = self.target.count() - 1
        self.target.setCurrentIndex(index)

    def chosen_spec(self) -> dict:
        """The spec the form describes (absolute paths), built as the CLI builds its own."""
        kind = self.kind.currentData()
        options: dict = {
            "validation": self.validation.value(),
            "test": self.test.value(),
            "seed": self.seed.value(),
        }
        if kind == "sample":
            options["sample"] = self.sample.currentData()
        else:
            path = self._resolved_path(kind)
            if path is None:
                what = dict((k, w) for k, _label, w in KINDS)[kind]
                raise DatasetError(f"choose {what} first")
            options[kind] = str(path)
        if kind == "csv":
            options["target"] = self.target.currentText() or None
            options["features"] = self.features.text().strip() or None
        if kind == "npz":
            options["x"] = self.x_name.text().strip() or "x"
            options["y"] = self.y_name.text().strip() or "y"
        spec = spec_from_options(options, None)
        if spec is None:  # not reached: a source is always given
            raise DatasetError("choose a dataset first")
        return spec

    # --- check and use ------------------------------------------------------------------------
    def _evaluate(self, spec: dict):
        """Preview ``spec`` and check it against the graph; the DataInfo, or None (shown why)."""
        self.error = None
        try:
            source = open_source(spec, self._base_dir())
            preview = source.preview(PREVIEW_ROWS)
        except Exception as error:
            self.preview.clear()
            self._show_status(_one_line(error), error=True)
            return None
        self.preview.setPlainText("\n".join(preview.lines()))
        try:
            plan = build_plan(self.document.graph, self.document.registry)
        except CompileError as error:
            self._show_status(
                f"Fix the graph to check the data against it: {_one_line(error)}", error=True
            )
            return None
        try:
            info = source.check(plan)
        except Exception as error:
            self._show_status(_one_line(error), error=True)
            return None
        self._show_status(f"Fits the model: {info.summary()}")
        return info

    def check(self) -> bool:
        """Preview and check the chosen data without storing it; True when it fits the model."""
        if self.document is None:
            return False
        try:
            spec = self.chosen_spec()
        except Exception as error:
            self._show_status(_one_line(error), error=True)
            return False
        return self._evaluate(spec) is not None

    def use(self) -> bool:
        """Check the chosen data and, when it fits, store it as the project's dataset."""
        if self.document is None:
            return False
        if self.opened is None:
            self._show_status("Save the project first: the dataset is stored in it.", error=True)
            return False
        try:
            spec = self.chosen_spec()
        except Exception as error:
            self._show_status(_one_line(error), error=True)
            return False
        info = self._evaluate(spec)
        if info is None:
            return False  # checked first: bad data leaves the project as it was
        try:
            stored = store_dataset_spec(self.opened, spec)
        except Exception as error:
            self._show_status(f"cannot store the dataset: {_one_line(error)}", error=True)
            return False
        self.current.setText(f"Dataset: {describe_spec(stored)}")
        self._show_status(f"Dataset set. Fits the model: {info.summary()}")
        return True

    def _show_status(self, text: str, error: bool = False) -> None:
        self.error = text if error else None
        dark = bool(QApplication.instance().property("layerloom_dark"))
        colour = SHEET_COLOURS[dark]["error" if error else "ok"]
        self.status.setStyleSheet(f"color: {colour};" if text else "")
        self.status.setText(text)
