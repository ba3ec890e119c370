"""Large synthetic graphs for benchmarks: residual MLP blocks, ~1000 nodes and ~1200 edges."""

from __future__ import annotations

from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.layout import layered_positions
from layerloom.nodes.registry import Registry


def residual_mlp(registry: Registry, nodes: int = 1000, width: int = 64) -> tuple[Graph, list[str]]:
    """Input, then blocks of Dense -> Dropout -> Add(skip): 3 nodes and 4 edges per block."""
    graph = Graph()

    def add(type_id: str, name: str, **params) -> str:
        spec = registry[type_id]
        node = Node(new_id(), spec.type_id, name, spec.normalize(params), version=spec.version)
        graph.add_node(node)
        return node.id

    previous = add("keras.Input", "input", shape=(width,))
    block_ids = [previous]
    for b in range((nodes - 1) // 3):
        dense = add("keras.layers.Dense", f"dense_{b}", units=width, activation="relu")
        drop = add("keras.layers.Dropout", f"dropout_{b}", rate=0.1)
        join = add("keras.layers.Add", f"add_{b}")
        graph.connect(Edge(previous, dense, "input"))
        graph.connect(Edge(dense, drop, "input"))
        graph.connect(Edge(drop, join, "in0"))
        graph.connect(Edge(previous, join, "in1"))
        block_ids.append(dense)
        previous = join
    for node_id, pos in layered_positions(graph).items():
        graph.move(node_id, pos)
    return graph, block_ids
