"""The Tab search popup: type part of a layer name, Enter adds the top hit where the popup opened.

The list is filled from ``registry.search`` so it follows the same matching as the palette.
"""

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

MAX_ROWS = 10


class SearchPopup(QFrame):
    chosen = Signal(str)  # type_id

    def __init__(self, registry, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.registry = registry
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add layer…")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.edit.textChanged.connect(self._filter)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._activate)
        self.list.itemClicked.connect(self._activate)
        self._filter("")

    def open_at(self, global_pos):
        self.edit.clear()
        self._filter("")
        row_height = max(self.list.sizeHintForRow(0), 18)
        self.list.setFixedHeight(row_height * MAX_ROWS + 6)
        self.resize(max(280, self.sizeHint().width()), self.sizeHint().height())
        self.move(global_pos)
        self.show()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def hits(self):
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _filter(self, text):
        self.list.clear()
        for spec in self.registry.search(text):
            item = QListWidgetItem(f"{spec.label}    ·  {spec.category}")
            item.setData(Qt.ItemDataRole.UserRole, spec.type_id)
            item.setToolTip(spec.doc)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _activate(self, item=None):
        item = item or self.list.currentItem()
        if item is None:
            return
        type_id = item.data(Qt.ItemDataRole.UserRole)
        self.hide()
        self.chosen.emit(type_id)

    def eventFilter(self, watched, event):
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._activate()
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                # Arrow keys move in the list while typing continues in the line edit.
                step = {
                    Qt.Key.Key_Down: 1,
                    Qt.Key.Key_Up: -1,
                    Qt.Key.Key_PageDown: MAX_ROWS,
                    Qt.Key.Key_PageUp: -MAX_ROWS,
                }[key]
                count = self.list.count()
                if count:
                    row = min(max(self.list.currentRow() + step, 0), count - 1)
                    self.list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)
