"""Layered auto-layout (left-to-right or top-to-bottom) computed with networkx generations."""

from __future__ import annotations

import networkx as nx

from layerloom.nodes.graph import Graph

LAYER_GAP = 240.0
ROW_GAP = 130.0


def layered_positions(graph: Graph, direction: str = "lr") -> dict[str, tuple[float, float]]:
    """Positions that place every node one layer after its deepest input, rows centred per layer."""
    g = nx.DiGraph(graph.nx_graph)
    if not nx.is_directed_acyclic_graph(g):
        g = nx.condensation(g)  # lay out cycles as one block rather than failing
        members = {c: sorted(g.nodes[c]["members"]) for c in g}
    else:
        members = {n: [n] for n in g}
    depth: dict[object, int] = {}
    for node in nx.topological_sort(g):
        depth[node] = max((depth[p] + 1 for p in g.predecessors(node)), default=0)
    layers: dict[int, list[str]] = {}
    for node in sorted(g, key=lambda n: (depth[n], str(n))):
        layers.setdefault(depth[node], []).extend(members[node])
    positions: dict[str, tuple[float, float]] = {}
    for layer, node_ids in layers.items():
        offset = (len(node_ids) - 1) * ROW_GAP / 2
        for row, node_id in enumerate(node_ids):
            along, across = layer * LAYER_GAP, row * ROW_GAP - offset
            positions[node_id] = (along, across) if direction == "lr" else (across, along)
    return positions
