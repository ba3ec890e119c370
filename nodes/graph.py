"""The graph: nodes and edges keyed by stable ids, mutated only through methods that emit events.

Observers (the analysis cache, the GUI scene) subscribe to events; nobody mutates the underlying
networkx graph directly. Edits in ``nodes.edits`` call these methods and know how to undo them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from layerloom.nodes.errors import LayerloomError


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Node:
    id: str
    type_id: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    pos: tuple[float, float] = (0.0, 0.0)
    version: int = 1  # the spec version these params were written for
    trainable: bool = True  # False: frozen, its weights are not trained (nodes.freezing)


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    port: str  # the input port on dst


@dataclass(frozen=True)
class Block:
    """A named group of nodes, shown as one card while collapsed (see ``nodes.blocks``). A view
    only: compile never reads it. Ids of nodes removed since are skipped on read."""

    name: str
    node_ids: tuple[str, ...]
    collapsed: bool = True


@dataclass(frozen=True)
class GraphEvent:
    kind: str  # node_added, node_removed, edge_added, edge_removed, params_changed, renamed, moved,
    # trainable_changed, block_changed (node_id: the block's name)
    node_id: str
    edge: Edge | None = None


Listener = Callable[[GraphEvent], None]


class Graph:
    def __init__(self) -> None:
        self._g = nx.MultiDiGraph()
        self._listeners: list[Listener] = []
        self._blocks: dict[str, Block] = {}

    # --- observation -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _emit(self, kind: str, node_id: str, edge: Edge | None = None) -> None:
        event = GraphEvent(kind, node_id, edge)
        for listener in list(self._listeners):
            listener(event)

    # --- reads -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._g.number_of_nodes()

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._g

    def node(self, node_id: str) -> Node:
        try:
            return self._g.nodes[node_id]["node"]
        except KeyError:
            raise LayerloomError(f"no node with id {node_id!r}") from None

    def nodes(self) -> Iterator[Node]:
        return (data["node"] for _, data in self._g.nodes(data=True))

    def edges(self) -> Iterator[Edge]:
        return (data["edge"] for _, _, data in self._g.edges(data=True))

    # The adjacency dicts are read directly: networkx's edge views cost ~10x more, and these two are
    # on the hot path of incremental shape inference.
    def in_edges(self, node_id: str) -> list[Edge]:
        return [d["edge"] for keyed in self._g.pred[node_id].values() for d in keyed.values()]

    def out_edges(self, node_id: str) -> list[Edge]:
        return [d["edge"] for keyed in self._g.succ[node_id].values() for d in keyed.values()]

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        return next((e for e in self.in_edges(node_id) if e.port == port), None)

    def successors(self, node_id: str) -> list[str]:
        return list(self._g.successors(node_id))

    def has_path(self, src: str, dst: str) -> bool:
        return nx.has_path(self._g, src, dst)

    def by_name(self, name: str) -> Node | None:
        return next((n for n in self.nodes() if n.name == name), None)

    def unique_name(self, base: str) -> str:
        taken = {n.name for n in self.nodes()}
        if base not in taken:
            return base
        i = 1
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"

    def blocks(self) -> list[Block]:
        return list(self._blocks.values())

    def block(self, name: str) -> Block:
        try:
            return self._blocks[name]
        except KeyError:
            raise LayerloomError(f"no block named {name!r}") from None

    @property
    def nx_graph(self) -> nx.MultiDiGraph:
        """A read-only view for algorithms (layout, topological order)."""
        return self._g.copy(as_view=True)

    # --- mutations (edits call these) --------------------------------------------------------
    def add_node(self, node: Node) -> None:
        if node.id in self._g:
            raise LayerloomError(f"a node with id {node.id!r} already exists")
        self._g.add_node(node.id, node=node)
        self._emit("node_added", node.id)

    def remove_node(self, node_id: str) -> Node:
        node = self.node(node_id)
        if self._g.degree(node_id):
            raise LayerloomError(f"node {node.name!r} still has connections; remove them first")
        self._g.remove_node(node_id)
        self._emit("node_removed", node_id)
        return node

    def connect(self, edge: Edge) -> None:
        for end in (edge.src, edge.dst):
            self.node(end)
        if self.edge_into(edge.dst, edge.port) is not None:
            raise LayerloomError(f"input {edge.port!r} of {self.node(edge.dst).name!r} is taken")
        self._g.add_edge(edge.src, edge.dst, key=edge.port, edge=edge)
        self._emit("edge_added", edge.dst, edge)

    def disconnect(self, edge: Edge) -> None:
        if not self._g.has_edge(edge.src, edge.dst, key=edge.port):
            raise LayerloomError("that connection does not exist")
        self._g.remove_edge(edge.src, edge.dst, key=edge.port)
        self._emit("edge_removed", edge.dst, edge)

    def replace_node(self, node: Node, kind: str) -> None:
        """Swap in a changed copy of an existing node (same id); ``kind`` names what changed."""
        self.node(node.id)
        self._g.nodes[node.id]["node"] = node
        self._emit(kind, node.id)

    def set_params(self, node_id: str, params: dict[str, Any]) -> None:
        self.replace_node(replace(self.node(node_id), params=dict(params)), "params_changed")

    def rename(self, node_id: str, name: str) -> None:
        self.replace_node(replace(self.node(node_id), name=name), "renamed")

    def move(self, node_id: str, pos: tuple[float, float]) -> None:
        self.replace_node(replace(self.node(node_id), pos=pos), "moved")

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        self.replace_node(replace(self.node(node_id), trainable=trainable), "trainable_changed")

    def set_block(self, block: Block) -> None:
        """Add or replace the block of that name (edits in ``nodes.edits`` check it first)."""
        self._blocks[block.name] = block
        self._emit("block_changed", block.name)

    def remove_block(self, name: str) -> Block:
        block = self.block(name)
        del self._blocks[name]
        self._emit("block_changed", name)
        return block
