"""Frozen nodes on the canvas: the lock drawn on their card and the node context menu.

The menu acts on the selection (a right-click on an unselected card selects it alone first) and
turns each choice into one edit on the document's undo stack; the scene redraws from the graph's
``trainable_changed`` events, as for any other edit. ``NODE_MENU`` is a list of entries so other
node actions join the same menu.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QMenu

from layerloom.nodes.edits import Composite
from layerloom.nodes.freezing import SetTrainable

LOCK_WIDTH = 9.0


def draw_lock(painter, top_left: QPointF, theme) -> None:
    """A padlock, LOCK_WIDTH wide, centred in the header row that starts at ``top_left``."""
    body_h = 6.5
    y = top_left.y() + theme.header_height / 2 - body_h / 2 + 2.5
    body = QRectF(top_left.x(), y, LOCK_WIDTH, body_h)
    shackle = QPainterPath()
    inset = 2.0
    shackle.moveTo(body.left() + inset, body.top())
    shackle.lineTo(body.left() + inset, body.top() - 2.0)
    shackle.arcTo(
        QRectF(body.left() + inset, body.top() - 5.5, LOCK_WIDTH - 2 * inset, 7.0), 180, -180
    )
    shackle.lineTo(body.right() - inset, body.top())
    painter.save()
    painter.setPen(QPen(theme.text, 1.4))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(shackle)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(theme.text)
    painter.drawRoundedRect(body, 1.5, 1.5)
    painter.restore()


@dataclass(frozen=True)
class MenuEntry:
    text: Callable[[object, list[str]], str]  # (scene, selected node ids) -> label
    enabled: Callable[[object, list[str]], bool]
    run: Callable[[object, list[str]], None]


def _freezable(scene, node_ids: list[str]) -> list[str]:
    graph, registry = scene.document.graph, scene.document.registry
    out = []
    for node_id in node_ids:
        spec = registry.get(graph.node(node_id).type_id)
        if spec is None or not spec.is_input:
            out.append(node_id)
    return out


def _label(verb: str, scene, node_ids: list[str]) -> str:
    if len(node_ids) == 1:
        return f"{verb} {scene.document.graph.node(node_ids[0]).name}"
    return f"{verb} {len(node_ids)} nodes"


def _set(scene, node_ids: list[str], trainable: bool) -> None:
    graph = scene.document.graph
    changing = [i for i in _freezable(scene, node_ids) if graph.node(i).trainable != trainable]
    if changing:
        text = _label("Unfreeze" if trainable else "Freeze", scene, changing)
        scene.document.push(SetTrainable(changing, trainable, text=text))


def _freeze_all_but(scene, node_ids: list[str]) -> None:
    """Train only the selection: freeze every other node, unfreeze the selected ones."""
    graph = scene.document.graph
    keep = set(node_ids)
    rest = _freezable(scene, [n.id for n in graph.nodes() if n.id not in keep])
    freeze = [i for i in rest if graph.node(i).trainable]
    thaw = [i for i in _freezable(scene, node_ids) if not graph.node(i).trainable]
    if not freeze and not thaw:
        return
    edits = [SetTrainable(ids, flag) for ids, flag in ((freeze, False), (thaw, True)) if ids]
    scene.document.push(Composite(edits, text=_label("Train only", scene, node_ids)))


def _any(scene, node_ids: list[str], trainable: bool) -> bool:
    graph = scene.document.graph
    return any(graph.node(i).trainable == trainable for i in _freezable(scene, node_ids))


NODE_MENU: list[MenuEntry] = [
    MenuEntry(
        lambda scene, ids: _label("Freeze", scene, ids),
        lambda scene, ids: _any(scene, ids, True),
        lambda scene, ids: _set(scene, ids, False),
    ),
    MenuEntry(
        lambda scene, ids: _label("Unfreeze", scene, ids),
        lambda scene, ids: _any(scene, ids, False),
        lambda scene, ids: _set(scene, ids, True),
    ),
    MenuEntry(
        lambda scene, ids: "Freeze All Others",
        lambda scene, ids: bool(_freezable(scene, ids)),
        _freeze_all_but,
    ),
]


def node_menu(scene, node_ids: list[str], parent=None) -> QMenu:
    menu = QMenu(parent)
    for entry in NODE_MENU:
        action = menu.addAction(entry.text(scene, node_ids))
        action.setEnabled(entry.enabled(scene, node_ids))
        action.triggered.connect(lambda _=False, e=entry: e.run(scene, node_ids))
    return menu


def open_node_menu(item, event) -> None:
    """The context menu of a node card: the selection's, selecting the card first if need be."""
    scene = item.scene()
    if not item.isSelected():
        scene.clearSelection()
        item.setSelected(True)
    node_ids = scene.selected_node_ids()
    menu = node_menu(scene, node_ids, event.widget())
    menu.exec(event.screenPos())
    event.accept()
