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


def room_after(
    graph: Graph, anchor_id: str, downstream: list[str]
) -> tuple[tuple[float, float], dict[str, tuple[float, float]]]:
    """Where a node inserted right after ``anchor_id`` goes, and the moves that make room for it.

    The new node takes the next layer's place along the direction the anchor's wires run (to its
    first ``downstream`` node: left-to-right unless that one sits mostly below), and ``downstream``
    with everything they feed moves one layer further, so a laid-out chain stays laid out.
    """
    ax, ay = graph.node(anchor_id).pos
    step = (LAYER_GAP, 0.0)
    if downstream:
        bx, by = graph.node(downstream[0]).pos
        if abs(by - ay) > abs(bx - ax):
            step = (0.0, LAYER_GAP)
    g = graph.nx_graph
    shifted: set[str] = set()
    for node_id in downstream:
        shifted |= {node_id, *nx.descendants(g, node_id)}
    moves = {}
    for node_id in sorted(shifted):
        x, y = graph.node(node_id).pos
        moves[node_id] = (x + step[0], y + step[1])
    return (ax + step[0], ay + step[1]), moves


def free_spot(graph: Graph) -> tuple[float, float]:
    """A place for a node that is not wired yet: one row below every other node."""
    positions = [node.pos for node in graph.nodes()]
    if not positions:
        return (0.0, 0.0)
    return (min(x for x, _ in positions), max(y for _, y in positions) + ROW_GAP)
