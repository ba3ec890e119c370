"""The layer palette: every registered node type by category, filtered as you type.

Entries can be dragged onto the canvas (mime type ``NODE_MIME``, payload the type id in UTF-8) or
activated (double-click / Enter) to add the node at the centre of the view (``node_requested``).
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.canvas.blocks_view import TEMPLATE_PREFIX
from layerloom.nodes.templates import list_templates

NODE_MIME = "application/x-layerloom-node-type"
TYPE_ROLE = Qt.ItemDataRole.UserRole
TEMPLATES = "my templates"  # the category of the user's own templates


class PaletteTree(QTreeWidget):
    def mimeTypes(self):
        return [NODE_MIME]

    def mimeData(self, items):
        type_ids = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        if not type_ids:
            return None
        data = QMimeData()
        data.setData(NODE_MIME, type_ids[0].encode("utf-8"))
        data.setText(type_ids[0])
        return data


class Palette(QWidget):
    node_requested = Signal(str)  # type_id

    def __init__(self, registry, parent=None):
        super().__init__(parent)
        self.registry = registry
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search layers")
        self.search.textChanged.connect(self.set_filter)
        self.search.returnPressed.connect(self._activate_first)
        self.search.installEventFilter(self)

        self.tree = PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.setAccessibleName("Layers")

        self.items: dict[str, QTreeWidgetItem] = {}
        self.category_items: dict[str, QTreeWidgetItem] = {}
        self._populate()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.setFocusProxy(self.search)

    def _populate(self) -> None:
        for category, specs in self.registry.categories().items():
            parent = QTreeWidgetItem(self.tree, [category.capitalize()])
            parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = parent.font(0)
            font.setBold(True)
            parent.setFont(0, font)
            self.category_items[category] = parent
            for spec in sorted(specs, key=lambda s: s.label.lower()):
                item = QTreeWidgetItem(parent, [spec.label])
                item.setData(0, TYPE_ROLE, spec.type_id)
                item.setToolTip(0, f"<b>{spec.label}</b><br>{spec.doc}<br><i>{spec.type_id}</i>")
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                self.items[spec.type_id] = item
        self.reload_templates()
        self.tree.expandAll()

    def reload_templates(self) -> None:
        """List the user's templates (``layerloom templates save``) as one more category."""
        old = self.category_items.pop(TEMPLATES, None)
        if old is not None:
            for i in range(old.childCount()):
                self.items.pop(old.child(i).data(0, TYPE_ROLE), None)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(old))
        names = sorted(info.name for info in list_templates() if info.user)
        if not names:
            return
        parent = QTreeWidgetItem(self.tree, ["My templates"])
        parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.category_items[TEMPLATES] = parent
        for name in names:
            item = QTreeWidgetItem(parent, [name])
            item.setData(0, TYPE_ROLE, TEMPLATE_PREFIX + name)
            item.setToolTip(0, f"<b>{name}</b><br>your template: adds its nodes and blocks")
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            self.items[TEMPLATE_PREFIX + name] = item
        parent.setExpanded(True)

    def preferred_width(self) -> int:
        """Wide enough for the longest layer name without eliding it."""
        metrics = self.tree.fontMetrics()
        longest = max(
            (metrics.horizontalAdvance(i.text(0)) for i in self.items.values()), default=0
        )
        scrollbar = self.tree.verticalScrollBar().sizeHint().width()
        return longest + 2 * self.tree.indentation() + scrollbar + 3 * metrics.height()

    # --- filtering ----------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        if self.search.text() != text:
            self.search.setText(text)
            return  # textChanged calls back here
        matches = None if not text.strip() else [s.type_id for s in self.registry.search(text)]
        if matches is not None:  # user templates match by name
            folded = text.strip().casefold()
            mine = [k for k in self.items if k.startswith(TEMPLATE_PREFIX)]
            matches += [k for k in mine if folded in k.removeprefix(TEMPLATE_PREFIX).casefold()]
        wanted = None if matches is None else set(matches)
        for type_id, item in self.items.items():
            item.setHidden(wanted is not None and type_id not in wanted)
        for parent in self.category_items.values():
            visible = any(not parent.child(i).isHidden() for i in range(parent.childCount()))
            parent.setHidden(not visible)
            parent.setExpanded(True)
        first = self.first_match(matches)
        if first is not None:
            self.tree.setCurrentItem(first)

    def first_match(self, ranked: list[str] | None = None) -> QTreeWidgetItem | None:
        """The best hit for the current search (registry.search ranks them), else the first shown."""
        for type_id in ranked or []:
            return self.items[type_id]
        return next(iter(self.visible_entries()), None)

    def visible_entries(self) -> list[QTreeWidgetItem]:
        return [
            parent.child(i)
            for parent in self.category_items.values()
            if not parent.isHidden()
            for i in range(parent.childCount())
            if not parent.child(i).isHidden()
        ]

    def visible_type_ids(self) -> list[str]:
        return [item.data(0, TYPE_ROLE) for item in self.visible_entries()]

    # --- activation ---------------------------------------------------------------------------
    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.node_requested.emit(type_id)

    def _activate_first(self) -> None:
        item = self.tree.currentItem()
        if item is None or item.isHidden() or not item.data(0, TYPE_ROLE):
            item = self.first_match()
        if item is not None:
            self._on_activated(item)

    def eventFilter(self, watched, event):
        # Down arrow from the search box moves into the list, as in a command palette.
        if watched is self.search and event.type() == event.Type.KeyPress:
            if event.key() == Qt.Key.Key_Down:
                self.tree.setFocus()
                if self.tree.currentItem() is None:
                    first = self.first_match()
                    if first is not None:
                        self.tree.setCurrentItem(first)
                return True
            if event.matches(QKeySequence.StandardKey.Cancel) and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)
