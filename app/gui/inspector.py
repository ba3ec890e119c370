"""The inspector: name and parameters of the one selected node, plus its shape, size and problems.

Editors come from ``param_editors.editor_for`` (a registry keyed by param kind). Every change becomes
an edit on the document's undo stack; consecutive changes of one param merge into one undo step.
The panel follows the graph (undo, redo, edits elsewhere) through ``Document.changed``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.param_editors import ParamEditor, editor_for
from layerloom.app.gui.trainable_box import TrainableBox
from layerloom.nodes.edits import Rename, SetParams


def format_shape(shape) -> str:
    if shape is None:
        return "unknown"
    return "(batch, " + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def name_problem(name: str, graph, node_id: str) -> str | None:
    """Why ``name`` cannot be this node's name, or None when it can."""
    if not name.strip():
        return "A name cannot be empty."
    if not name.replace("_", "a").replace("-", "a").isalnum():
        return "Use only letters, digits, '_' and '-' in a name."
    other = graph.by_name(name)
    if other is not None and other.id != node_id:
        return f"“{name}” is already the name of another node."
    return None


def _secondary(label: QLabel) -> QLabel:
    label.setProperty("role", "secondary")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class Inspector(QWidget):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self._info_timer = QTimer(self, singleShot=True, interval=0)
        self._info_timer.timeout.connect(self._refresh_info)

        self.empty = QLabel("Select a node to see and edit its parameters.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        _secondary(self.empty)

        self.title = QLabel()
        self.title.setProperty("role", "title")
        self.doc = _secondary(QLabel())
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Node name")
        self.name_edit.editingFinished.connect(self._on_name_finished)
        self.name_edit.textEdited.connect(lambda _text: self._show_name_error(None))
        self.name_error = QLabel()
        self.name_error.setProperty("role", "error")
        self.name_error.setWordWrap(True)
        self.name_error.hide()

        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.shape_label = _secondary(QLabel())
        self.count_label = _secondary(QLabel())
        self.problems_label = QLabel()
        self.problems_label.setProperty("role", "error")
        self.problems_label.setWordWrap(True)

        details = QWidget()
        layout = QVBoxLayout(details)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.doc)
        name_form = QFormLayout()
        name_form.setContentsMargins(0, 6, 0, 0)
        name_form.addRow("Name", self.name_edit)
        layout.addLayout(name_form)
        layout.addWidget(self.name_error)
        self.trainable = TrainableBox(document)  # freeze: one node here, a selection below
        layout.addWidget(self.trainable)
        layout.addWidget(self._section("Parameters"))
        layout.addWidget(self.form_host)
        layout.addWidget(self._section("Output"))
        info = QFormLayout()
        info.addRow("Shape", self.shape_label)
        info.addRow("Weights", self.count_label)
        layout.addLayout(info)
        layout.addWidget(self.problems_label)
        layout.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(details)

        self.selection_trainable = TrainableBox(document)
        empty_page = QWidget()
        empty_layout = QVBoxLayout(empty_page)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty)
        empty_layout.addWidget(self.selection_trainable)
        empty_layout.addStretch(1)
        self.pages = QStackedWidget()
        self.pages.addWidget(empty_page)
        self.pages.addWidget(scroll)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)
        self.setFocusProxy(self.name_edit)
        self.set_document(document)

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text)
        label.setProperty("role", "section")
        return label

    # --- wiring -------------------------------------------------------------------------------
    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_changed)
            self.document.analysis_changed.disconnect(self._info_timer.start)
        self.document = document
        document.changed.connect(self._on_changed)
        document.analysis_changed.connect(self._info_timer.start)
        self.trainable.set_document(document)
        self.selection_trainable.set_document(document)
        self.show_node(None)

    def on_selection(self, node_ids: list) -> None:
        if len(node_ids) == 1:
            self.show_node(node_ids[0])
        else:
            self.show_node(None)
            if node_ids:
                self.empty.setText(f"{len(node_ids)} nodes selected.")
                self.selection_trainable.show_nodes(node_ids)

    # --- showing a node -----------------------------------------------------------------------
    def show_node(self, node_id: str | None) -> None:
        if node_id is not None and node_id not in self.document.graph:
            node_id = None
        self._clear_form()
        self.node_id = node_id
        self._show_name_error(None)
        self.selection_trainable.show_nodes([])
        self.trainable.show_nodes([] if node_id is None else [node_id])
        if node_id is None:
            self.empty.setText("Select a node to see and edit its parameters.")
            self.pages.setCurrentIndex(0)
            return
        node = self.document.graph.node(node_id)
        spec = self.document.registry.get(node.type_id)
        self.title.setText(spec.label if spec else node.type_id)
        self.title.setToolTip(node.type_id)
        self.doc.setText(spec.doc if spec else "Unknown node type: its parameters are kept as-is.")
        for param in spec.params if spec else ():
            editor = editor_for(param)
            editor.edited.connect(lambda value, name=param.name: self._on_edited(name, value))
            label = QLabel(param.name.replace("_", " "))
            label.setToolTip(param.doc)
            label.setBuddy(editor.focusProxy() or editor)
            self.form.addRow(label, editor)
            self.editors[param.name] = editor
        self._sync_values()
        self._refresh_info()
        self.pages.setCurrentIndex(1)

    def _clear_form(self) -> None:
        self.editors.clear()
        while self.form.rowCount():
            self.form.removeRow(0)

    def _sync_values(self) -> None:
        node = self.document.graph.node(self.node_id)
        if not self.name_edit.hasFocus() or self.name_error.isHidden():
            self.name_edit.setText(node.name)
        for name, editor in self.editors.items():
            param = editor.param
            editor.set_value(node.params.get(name, param.default))

    def _refresh_info(self) -> None:
        if self.node_id is None or self.node_id not in self.document.graph:
            return
        analysis = self.document.analysis
        result = analysis.result(self.node_id)
        self.shape_label.setText(format_shape(result.shape))
        self.count_label.setText("—" if result.params is None else f"{result.params:,} params")
        problems = analysis.node_problems(self.node_id)
        self.problems_label.setText("\n".join(f"⚠ {p.message}" for p in problems))
        self.problems_label.setVisible(bool(problems))

    def _on_changed(self, event) -> None:
        if event.node_id != self.node_id or self.node_id is None:
            return
        if event.kind == "node_removed":
            self.show_node(None)
        elif event.kind in ("params_changed", "renamed"):
            self._sync_values()

    # --- user edits ---------------------------------------------------------------------------
    def _on_edited(self, name: str, value) -> None:
        if self.node_id is None:
            return
        node = self.document.graph.node(self.node_id)
        if name in node.params and node.params[name] == value:
            return
        params = {**node.params, name: value}
        self.document.push(
            SetParams(self.node_id, params, text=f"Set {node.name}.{name}"),
            merge_key=("params", self.node_id, name),
        )

    def _on_name_finished(self) -> None:
        if self.node_id is None:
            return
        name = self.name_edit.text().strip()
        node = self.document.graph.node(self.node_id)
        if name == node.name:
            self._show_name_error(None)
            return
        problem = name_problem(name, self.document.graph, self.node_id)
        self._show_name_error(problem)
        if problem is None:
            self.document.push(Rename(self.node_id, name, text=f"Rename {node.name} to {name}"))

    def _show_name_error(self, message: str | None) -> None:
        self.name_error.setText(message or "")
        self.name_error.setVisible(bool(message))
        self.name_edit.setProperty("invalid", bool(message))
        self.name_edit.style().unpolish(self.name_edit)
        self.name_edit.style().polish(self.name_edit)

    def focus_first_editor(self) -> None:
        self.name_edit.setFocus()
