"""Small helpers to build graphs in tests without repeating boilerplate."""

from __future__ import annotations

from typing import Any

from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.registry import Registry


def add(graph: Graph, registry: Registry, type_name: str, name: str, **params: Any) -> str:
    type_id = type_name if type_name.startswith("keras.") else f"keras.layers.{type_name}"
    spec = registry[type_id]
    node = Node(new_id(), spec.type_id, name, spec.normalize(params), version=spec.version)
    graph.add_node(node)
    return node.id


def link(graph: Graph, src: str, dst: str, port: str = "input") -> Edge:
    edge = Edge(src, dst, port)
    graph.connect(edge)
    return edge


def dense_chain(registry: Registry, length: int, width: int = 8) -> tuple[Graph, list[str]]:
    """Input(width) followed by ``length`` Dense layers; returns the graph and ids in order."""
    graph = Graph()
    ids = [add(graph, registry, "keras.Input", "input", shape=(width,))]
    for i in range(length):
        ids.append(add(graph, registry, "Dense", f"dense_{i}", units=width))
        link(graph, ids[-2], ids[-1])
    return graph, ids
