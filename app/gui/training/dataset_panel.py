"""The Data tab: the project's dataset, a preview of it, and a form to choose another.

It does what ``layerloom data`` does, with the same functions: a spec from CLI-style options
(``spec_from_options``), ``open_source`` → ``preview`` → ``check`` against the graph's BuildPlan,
and only then ``store_dataset_spec`` (paths relative to the project when the data lives beside
it). "Check" previews and checks without storing. Errors are one line in the panel; nothing is
stored when any step fails. NumPy and pure Python only: no TensorFlow here.
"""

from __future__ import annotations

import json
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, Signal
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
from layerloom.app.gui.training.fit_offer import FitGraphMixin, FitOffer
from layerloom.nodes.adapt import scale_warnings
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import (
    SOURCES,
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


def describe_spec(spec: dict) -> str:
    """One line for a spec: its kind and name or path, then its other fields."""
    kind = spec.get("kind", "?")
    what = spec.get("name") if kind == "sample" else spec.get("path")
    rest = {k: v for k, v in spec.items() if k not in ("kind", "name", "path") and v is not None}
    extra = "  " + json.dumps(rest) if rest else ""
    return f"{kind} {what}{extra}"


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class DatasetPanel(FitGraphMixin, QWidget):
    # The training settings after "Fit the graph" changed them (or its undo), for the form.
    settings_changed = Signal(dict)

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
        self.warnings: list[str] = []  # the scale warning for the data last checked
        self.fit_offer = FitOffer()
        self.fit_offer.accepted.connect(self.fit_graph)

        # --- the source chooser: one page per registered kind (``SOURCES``) -----------------
        self.kind = QComboBox()
        self.kind.setAccessibleName("Dataset kind")
        self.pages = QStackedWidget()
        self.kind.currentIndexChanged.connect(self.pages.setCurrentIndex)
        self.paths: dict[str, QLineEdit] = {}  # kind -> its path field ("file"/"folder" kinds)
        self.names: dict[str, QComboBox] = {}  # kind -> its name combo ("name" kinds)
        self.fields: dict[str, dict[str, QWidget]] = {}  # kind -> option name -> its field
        for kind, source in SOURCES.items():
            self.kind.addItem(source.label or kind, kind)
            self.pages.addWidget(self._page(kind, source))
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
        right.addWidget(self.fit_offer)
        right.addWidget(self.status)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(chooser, 2)
        layout.addLayout(right, 3)
        self.set_document(document)

    def _page(self, kind: str, source) -> QWidget:
        """The form for one kind, from its declarations: what locates it, then its options."""
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        if source.locator == "name":
            form.addRow(source.label or kind.capitalize(), self._name_combo(kind, source))
            form.addRow("", self._name_about(kind, source))
        else:
            row = self._path_row(kind)
            form.addRow("Folder" if source.locator == "folder" else "File", row)
        fields = self.fields.setdefault(kind, {})
        for option in source.cli_options:
            if option.label is None:
                continue  # a CLI-only option
            if option.column:
                field = QComboBox()
            else:
                field = QLineEdit("" if option.default is None else str(option.default))
                field.setPlaceholderText(option.placeholder)
            field.setAccessibleName(option.accessible or option.label)
            fields[option.name] = field
            form.addRow(option.label, field)
        if self._column_options(kind):
            self.paths[kind].editingFinished.connect(lambda k=kind: self.load_columns(k))
        return page

    def _name_combo(self, kind: str, source) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(source.label or kind)
        for name, description in source.choices().items():
            combo.addItem(name, name)
            combo.setItemData(combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.names[kind] = combo
        return combo

    def _name_about(self, kind: str, source) -> QLabel:
        about = QLabel()
        about.setWordWrap(True)
        about.setProperty("role", "secondary")
        combo = self.names[kind]
        describe = lambda: about.setText(source.choices().get(combo.currentData(), ""))  # noqa: E731
        combo.currentIndexChanged.connect(describe)
        describe()
        return about

    def _column_options(self, kind: str) -> list[str]:
        return [o.name for o in SOURCES[kind].cli_options if o.column and o.label is not None]

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
        if document is not None:
            # Saved for the first time (or elsewhere): stored specs now resolve against it.
            document.path_changed.connect(lambda doc=document: self._document_moved(doc))
        self.preview.clear()
        self.fit_offer.decline()
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
        template = self.document.template
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
        kind = spec.get("kind")
        if kind not in SOURCES:
            return
        self.kind.setCurrentIndex(self.kind.findData(kind))
        if kind in self.names:
            index = self.names[kind].findData(spec.get("name"))
            if index >= 0:
                self.names[kind].setCurrentIndex(index)
        elif isinstance(spec.get("path"), str):
            self.paths[kind].setText(spec["path"])
        if self._column_options(kind):
            self.load_columns(kind, quiet=True)
        for option in SOURCES[kind].cli_options:
            field = self.fields[kind].get(option.name)
            value = spec.get(option.name)
            if isinstance(field, QComboBox):
                if value:
                    self._select(field, str(value))
            elif isinstance(field, QLineEdit):
                if isinstance(value, list):
                    field.setText(", ".join(str(v) for v in value))
                elif value is not None:
                    field.setText(str(value))
                else:
                    field.setText("" if option.default is None else str(option.default))
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
        source = SOURCES[kind]
        if source.locator == "folder":
            path = QFileDialog.getExistingDirectory(self, f"Choose {source.what}", start)
        else:
            path, _filter = QFileDialog.getOpenFileName(
                self, f"Choose {source.what}", start, source.file_filter
            )
        return path or None

    def browse(self, kind: str) -> None:
        path = self.ask_path(kind)
        if not path:
            return
        self.paths[kind].setText(str(path))
        if self._column_options(kind):
            self.load_columns(kind)

    def _resolved_path(self, kind: str) -> Path | None:
        text = self.paths[kind].text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        base = self._base_dir()
        return path if path.is_absolute() or base is None else base / path

    def load_columns(self, kind: str, quiet: bool = False) -> list[str]:
        """Fill ``kind``'s column fields from its file (keeping the choice, else the last)."""
        path = self._resolved_path(kind)
        combos = [self.fields[kind][name] for name in self._column_options(kind)]
        previous = [combo.currentText() for combo in combos]
        for combo in combos:
            combo.clear()
        if path is None:
            return []
        try:
            columns = SOURCES[kind].columns(path)
        except Exception as error:  # unreadable: say why, leave the fields empty
            if not quiet:
                self._show_status(f"cannot read the header of {path.name}: {error}", error=True)
            return []
        for combo, kept in zip(combos, previous, strict=True):
            combo.addItems(columns)
            if columns:
                self._select(combo, kept if kept in columns else columns[-1])
        return columns

    @staticmethod
    def _select(combo: QComboBox, name: str) -> None:
        index = combo.findText(name)
        if index < 0:
            combo.addItem(name)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def chosen_spec(self) -> dict:
        """The spec the form describes (absolute paths), built as the CLI builds its own."""
        kind = self.kind.currentData()
        source = SOURCES[kind]
        options: dict = {
            "validation": self.validation.value(),
            "test": self.test.value(),
            "seed": self.seed.value(),
        }
        if kind in self.names:
            options[kind] = self.names[kind].currentData()
        else:
            path = self._resolved_path(kind)
            if path is None:
                raise DatasetError(f"choose {source.what} first")
            options[kind] = str(path)
        for name, field in self.fields[kind].items():
            text = field.currentText() if isinstance(field, QComboBox) else field.text()
            options[name] = text.strip() or None  # None: the option's declared default
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
        graph, registry = self.document.graph, self.document.registry
        self.warnings = scale_warnings(graph, registry, source, "“Fit the graph” adds one")
        self._show_status("\n".join([f"Fits the model: {info.summary()}", *self.warnings]))
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
        self._offer_fit(spec, fits=info is not None)
        if info is None:
            return False  # checked first: bad data leaves the project as it was
        try:
            stored = store_dataset_spec(self.opened, spec)
        except Exception as error:
            self._show_status(f"cannot store the dataset: {_one_line(error)}", error=True)
            return False
        self.show_stored(stored)
        self._show_status(
            "\n".join([f"Dataset set. Fits the model: {info.summary()}", *self.warnings])
        )
        return True

    def show_stored(self, stored: dict) -> None:
        self.current.setText(f"Dataset: {describe_spec(stored)}")

    def _show_status(self, text: str, error: bool = False) -> None:
        self.error = text if error else None
        dark = bool(QApplication.instance().property("layerloom_dark"))
        colour = SHEET_COLOURS[dark]["error" if error else "ok"]
        self.status.setStyleSheet(f"color: {colour};" if text else "")
        self.status.setText(text)
