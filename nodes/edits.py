"""Reversible edits: each is a small object that applies itself to a Graph and undoes itself.

They are testable without Qt; the GUI's undo stack wraps them one command per edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from layerloom.nodes.blocks import check_block
from layerloom.nodes.graph import Block, Edge, Graph, Node


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


@dataclass
class GroupBlock:
    """Group nodes into a named block (a view only: compile ignores blocks)."""

    block: Block
    text: str = "Group"

    def apply(self, graph: Graph) -> None:
        check_block(graph, self.block)
        graph.set_block(self.block)

    def revert(self, graph: Graph) -> None:
        graph.remove_block(self.block.name)


@dataclass
class Ungroup:
    name: str
    _old: Block | None = field(default=None, repr=False)
    text: str = "Ungroup"

    def apply(self, graph: Graph) -> None:
        self._old = graph.remove_block(self.name)

    def revert(self, graph: Graph) -> None:
        assert self._old is not None
        graph.set_block(self._old)


@dataclass
class SetCollapsed:
    """Collapse a block to one card, or expand it back to its nodes."""

    name: str
    collapsed: bool
    _old: bool = True
    text: str = "Collapse"

    def apply(self, graph: Graph) -> None:
        block = graph.block(self.name)
        self._old = block.collapsed
        graph.set_block(replace(block, collapsed=self.collapsed))

    def revert(self, graph: Graph) -> None:
        graph.set_block(replace(graph.block(self.name), collapsed=self._old))
