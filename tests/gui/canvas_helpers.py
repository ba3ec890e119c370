"""Fixtures and helpers for driving the canvas in tests: documents, views, ports, mouse drags."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from layerloom.nodes.edits import (
    AddNode,
    Connect,
)
from layerloom.nodes.graph import Edge, Node, new_id


def add(document, type_name, name, pos=(0.0, 0.0), **params):
    type_id = type_name if type_name.startswith("keras.") else f"keras.layers.{type_name}"
    spec = document.registry[type_id]
    node = Node(new_id(), spec.type_id, name, spec.normalize(params), pos, spec.version)
    document.push(AddNode(node))
    return node.id


def link(document, src, dst, port="input"):
    edge = Edge(src, dst, port)
    document.push(Connect(edge))
    return edge


def edges(document):
    return {(e.src, e.dst, e.port) for e in document.graph.edges()}


def at(view, scene_point):
    return view.mapFromScene(scene_point)


def out_port(view, node_id):
    return view.graph_scene.nodes[node_id].output.anchor()


def in_port(view, node_id, port="input"):
    return view.graph_scene.nodes[node_id].inputs[port].anchor()


def body(view, node_id):
    """A point on the card's header, away from ports and the badge."""
    item = view.graph_scene.nodes[node_id]
    return item.pos() + QPointF(40.0, 10.0)


def press_move(view, start, end, steps=4):
    viewport = view.viewport()
    a, b = at(view, start), at(view, end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        p = a + (b - a) * (i / steps)
        QTest.mouseMove(viewport, QPoint(round(p.x()), round(p.y())))
    return b


def drag(view, start, end, steps=4):
    b = press_move(view, start, end, steps)
    QTest.mouseRelease(
        view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b
    )


def messages_of(view):
    seen = []
    view.message.connect(seen.append)
    return seen
