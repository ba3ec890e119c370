"""Find a node by name (Ctrl+F): type part of a name, Enter selects that node and centres it.

Matching ignores case (``str.casefold``, so any script works); exact names rank first, then names
that start with the text, then names that contain it.
"""

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

MAX_ROWS = 12


def rank_names(names, text):
    """``names`` that match ``text``, best first."""
    key = text.casefold().strip()
    if not key:
        return sorted(names, key=str.casefold)
    scored = []
    for name in names:
        folded = name.casefold()
        if key in folded:
            scored.append((folded != key, not folded.startswith(key), len(name), folded, name))
    return [entry[-1] for entry in sorted(scored)]


class FindPopup(QFrame):
    chosen = Signal(str)  # a node name

    def __init__(self, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.names = []
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Find node by name…")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.edit.textChanged.connect(self._filter)
        self.edit.installEventFilter(self)
        self.list.itemClicked.connect(self._activate)

    def open_at(self, global_pos, names):
        self.names = list(names)
        self.edit.clear()
        self._filter("")
        self.list.setFixedHeight(max(self.list.sizeHintForRow(0), 18) * MAX_ROWS + 6)
        self.resize(320, self.sizeHint().height())
        self.move(global_pos)
        self.show()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def hits(self):
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _filter(self, text):
        self.list.clear()
        # A 3000-node graph lists fast enough; more rows than fit are not worth building.
        for name in rank_names(self.names, text)[:500]:
            self.list.addItem(QListWidgetItem(name))
        if self.list.count():
            self.list.setCurrentRow(0)

    def _activate(self, item=None):
        item = item or self.list.currentItem()
        if item is None:
            return
        self.hide()
        self.chosen.emit(item.text())

    def eventFilter(self, watched, event):
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._activate()
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                count = self.list.count()
                if count:
                    step = 1 if key == Qt.Key.Key_Down else -1
                    self.list.setCurrentRow(min(max(self.list.currentRow() + step, 0), count - 1))
                return True
        return super().eventFilter(watched, event)
