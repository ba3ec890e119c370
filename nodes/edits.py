"""Reversible edits: each is a small object that applies itself to a Graph and undoes itself.

They are testable without Qt; the GUI's undo stack wraps them one command per edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from layerloom.nodes.graph import Edge, Graph, Node


class Edit(Protocol):
    text: str

    def apply(self, graph: Graph) -> None: ...

    def revert(self, graph: Graph) -> None: ...


@dataclass
class AddNode:
    node: Node

    @property
    def text(self) -> str:
        return f"Add {self.node.name}"

    def apply(self, graph: Graph) -> None:
        graph.add_node(self.node)

    def revert(self, graph: Graph) -> None:
        graph.remove_node(self.node.id)


@dataclass
class RemoveNodes:
    """Remove nodes together with every edge touching them; undo restores both."""

    node_ids: list[str]
    _nodes: list[Node] = field(default_factory=list, repr=False)
    _edges: list[Edge] = field(default_factory=list, repr=False)
    text: str = "Delete"

    def apply(self, graph: Graph) -> None:
        ids = set(self.node_ids)
        self._nodes = [graph.node(i) for i in self.node_ids]
        seen: dict[tuple[str, str, str], Edge] = {}
        for node_id in self.node_ids:
            for edge in graph.in_edges(node_id) + graph.out_edges(node_id):
                seen[(edge.src, edge.dst, edge.port)] = edge
        self._edges = list(seen.values())
        for edge in self._edges:
            graph.disconnect(edge)
        for node_id in ids:
            graph.remove_node(node_id)

    def revert(self, graph: Graph) -> None:
        for node in self._nodes:
            graph.add_node(node)
        for edge in self._edges:
            graph.connect(edge)


@dataclass
class Connect:
    edge: Edge
    text: str = "Connect"

    def apply(self, graph: Graph) -> None:
        graph.connect(self.edge)

    def revert(self, graph: Graph) -> None:
        graph.disconnect(self.edge)


@dataclass
class Disconnect:
    edge: Edge
    text: str = "Disconnect"

    def apply(self, graph: Graph) -> None:
        graph.disconnect(self.edge)

    def revert(self, graph: Graph) -> None:
        graph.connect(self.edge)


@dataclass
class SetParams:
    node_id: str
    params: dict[str, Any]
    _old: dict[str, Any] = field(default_factory=dict, repr=False)
    text: str = "Change parameters"

    def apply(self, graph: Graph) -> None:
        self._old = dict(graph.node(self.node_id).params)
        graph.set_params(self.node_id, self.params)

    def revert(self, graph: Graph) -> None:
        graph.set_params(self.node_id, self._old)


@dataclass
class Rename:
    node_id: str
    name: str
    _old: str = ""
    text: str = "Rename"

    def apply(self, graph: Graph) -> None:
        self._old = graph.node(self.node_id).name
        graph.rename(self.node_id, self.name)

    def revert(self, graph: Graph) -> None:
        graph.rename(self.node_id, self._old)


@dataclass
class Move:
    positions: dict[str, tuple[float, float]]
    _old: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    text: str = "Move"

    def apply(self, graph: Graph) -> None:
        self._old = {i: graph.node(i).pos for i in self.positions}
        for node_id, pos in self.positions.items():
            graph.move(node_id, pos)

    def revert(self, graph: Graph) -> None:
        for node_id, pos in self._old.items():
            graph.move(node_id, pos)


@dataclass
class Composite:
    """Several edits as one undo step (paste, auto-layout, replace a connection)."""

    edits: list[Edit]
    text: str = "Edit"

    def apply(self, graph: Graph) -> None:
        done: list[Edit] = []
        try:
            for edit in self.edits:
                edit.apply(graph)
                done.append(edit)
        except Exception:
            for edit in reversed(done):
                edit.revert(graph)
            raise

    def revert(self, graph: Graph) -> None:
        for edit in reversed(self.edits):
            edit.revert(graph)
