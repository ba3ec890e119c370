"""The inspector's "Trainable" checkbox, for one node or a whole selection.

Unchecking freezes every selected node (Inputs have no weights and are left out) as one
``SetTrainable`` edit on the document's undo stack; a selection that is partly frozen shows the
box partially checked. A note under it says what freezing means, and for a BatchNormalization
that a frozen one runs in inference mode (Keras' rule).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from layerloom.nodes.freezing import (
    BATCH_NORM_NOTE,
    FROZEN_NOTE,
    SetTrainable,
    is_batch_norm,
)

State = Qt.CheckState
FROZEN_NODES_NOTE = "Frozen: training leaves these nodes' weights as they are."


class TrainableBox(QWidget):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self.node_ids: list[str] = []  # the selected nodes that can be frozen (no Inputs)
        self.check = QCheckBox("Trainable")
        self.check.setAccessibleName("Trainable")
        self.check.setToolTip("Uncheck to freeze: training leaves the weights as they are")
        self.check.clicked.connect(self._on_clicked)
        self.note = QLabel()
        self.note.setProperty("role", "secondary")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.check)
        layout.addWidget(self.note)
        self.set_document(document)

    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_changed)
        self.document = document
        document.changed.connect(self._on_changed)
        self.show_nodes([])

    def show_nodes(self, node_ids) -> None:
        graph, registry = self.document.graph, self.document.registry
        self.node_ids = []
        for node_id in node_ids:
            if node_id not in graph:
                continue
            spec = registry.get(graph.node(node_id).type_id)
            if spec is None or not spec.is_input:
                self.node_ids.append(node_id)
        self.setVisible(bool(self.node_ids))
        self._sync()

    def _sync(self) -> None:
        graph, registry = self.document.graph, self.document.registry
        nodes = [graph.node(i) for i in self.node_ids if i in graph]
        if not nodes:
            return
        frozen = sum(1 for n in nodes if not n.trainable)
        state = State.Checked if not frozen else State.Unchecked
        if 0 < frozen < len(nodes):
            state = State.PartiallyChecked
        self.check.setTristate(state == State.PartiallyChecked)
        self.check.setCheckState(state)
        lines = []
        if frozen:
            if frozen < len(nodes):
                lines.append(f"{frozen} of {len(nodes)} nodes frozen.")
            else:
                lines.append(FROZEN_NOTE if len(nodes) == 1 else FROZEN_NODES_NOTE)
        specs = (registry.get(n.type_id) for n in nodes)
        if any(spec is not None and is_batch_norm(spec.keras_class) for spec in specs):
            lines.append(BATCH_NORM_NOTE)
        self.note.setText("\n".join(lines))
        self.note.setVisible(bool(lines))

    def _on_changed(self, event) -> None:
        if event.node_id in self.node_ids and event.kind in ("trainable_changed", "node_removed"):
            self.show_nodes(self.node_ids)

    def _on_clicked(self) -> None:
        # A click on a partly checked box makes every node trainable: the state it lands on next.
        trainable = self.check.checkState() != State.Unchecked
        graph = self.document.graph
        changing = [i for i in self.node_ids if graph.node(i).trainable != trainable]
        if not changing:
            self._sync()
            return
        names = [graph.node(i).name for i in changing]
        what = names[0] if len(names) == 1 else f"{len(names)} nodes"
        text = f"{'Unfreeze' if trainable else 'Freeze'} {what}"
        self.document.push(SetTrainable(changing, trainable, text=text))
