"""Layered auto-layout (left-to-right or top-to-bottom), Sugiyama style.

Longest-path layering puts every node one layer after its deepest input; an edge that spans
several layers gets a placeholder in each layer it crosses, so it keeps a lane of its own
instead of cutting through nodes. Barycentre sweeps order each layer to cut crossings, and a
priority placement lines each node up with the median of its neighbours, real nodes before placeholders, so a
straight chain stays one straight line and a skip edge bends around the main path beside it.
"""

from __future__ import annotations

from bisect import bisect_left, insort

import networkx as nx

from layerloom.nodes.graph import Graph

LAYER_GAP = 240.0  # left to right: room for a card (150 wide) and its edge's shape label
TB_LAYER_GAP = 140.0  # top to bottom: a plain card is about TB_CARD_HEIGHT; the rest is the label
TB_CARD_HEIGHT = 75.0
ROW_GAP = 130.0
SWEEPS = 4  # down/up passes; more rarely changes a hand-sized graph

Key = object  # a node id, or a placeholder tuple ("via", src, dst, layer)


def layered_positions(
    graph: Graph, direction: str = "lr", heights: dict[str, float] | None = None
) -> dict[str, tuple[float, float]]:
    """Positions for every node: layer along ``direction``, lane across it (ROW_GAP apart).

    ``heights`` (top to bottom only): each card's drawn height, so a layer with a tall card (a
    merge with many inputs) pushes the next one down instead of touching it.
    """
    g = nx.DiGraph(graph.nx_graph)
    while not nx.is_directed_acyclic_graph(g):  # a cycle (an invalid graph) still gets a layout
        g.remove_edge(*nx.find_cycle(g)[0][:2])
    rank = {node: i for i, node in enumerate(nx.topological_sort(g))}
    depth = {node: 0 for node in g}
    for node in sorted(g, key=rank.__getitem__):
        depth[node] = max((depth[p] + 1 for p in g.predecessors(node)), default=0)
    layers, up, down = _split_long_edges(g, depth, rank)
    lane = {key: i - (len(layer) - 1) / 2 for layer in layers for i, key in enumerate(layer)}
    for _ in range(SWEEPS):
        for layer_list, near in ((layers[1:], up), (layers[-2::-1], down)):
            for layer in layer_list:
                _order(layer, near, lane)
    for _ in range(SWEEPS):
        for layer_list, near in ((layers, up), (layers[::-1], down)):
            for layer in layer_list:
                _place(layer, near, lane)
    tops = _layer_tops(layers, heights or {})
    positions: dict[str, tuple[float, float]] = {}
    for node in g:
        across = lane[node] * ROW_GAP
        if direction == "lr":
            positions[node] = (depth[node] * LAYER_GAP, across)
        else:
            positions[node] = (across, tops[depth[node]])
    return positions


def _layer_tops(layers: list[list[Key]], heights: dict[str, float]) -> list[float]:
    """Where each layer starts top to bottom: TB_LAYER_GAP apart, more after a taller card."""
    tops, y = [], 0.0
    for layer in layers:
        tops.append(y)
        tallest = max((heights.get(key, 0.0) for key in layer if _is_real(key)), default=0.0)
        y += max(TB_LAYER_GAP, tallest + TB_LAYER_GAP - TB_CARD_HEIGHT)
    return tops


def _split_long_edges(
    g: nx.DiGraph, depth: dict, rank: dict
) -> tuple[list[list[Key]], dict[Key, list[Key]], dict[Key, list[Key]]]:
    """Layers (real nodes first, in graph order) and up/down neighbours with placeholders."""
    up: dict[Key, list[Key]] = {n: [] for n in g}
    down: dict[Key, list[Key]] = {n: [] for n in g}
    layers: list[list[Key]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in sorted(g, key=rank.__getitem__):
        layers[depth[node]].append(node)
    for src in sorted(g, key=rank.__getitem__):
        for dst in sorted(g.successors(src), key=rank.__getitem__):
            prev: Key = src
            for level in range(depth[src] + 1, depth[dst]):
                via = ("via", src, dst, level)
                up[via], down[via] = [prev], []
                down[prev].append(via)
                layers[level].append(via)
                prev = via
            down[prev].append(dst)
            up[dst].append(prev)
    return layers, up, down


def _order(layer: list[Key], near: dict[Key, list[Key]], lane: dict[Key, float]) -> None:
    """Sort a layer by the mean lane of its neighbours in the layer just placed (barycentre)."""

    def barycentre(key: Key) -> float:
        others = near[key]
        return sum(lane[o] for o in others) / len(others) if others else lane[key]

    layer.sort(key=lambda key: (barycentre(key), lane[key]))
    for i, key in enumerate(layer):
        lane[key] = i - (len(layer) - 1) / 2


def _is_real(key: Key) -> bool:
    return not isinstance(key, tuple)


def _place(layer: list[Key], near: dict[Key, list[Key]], lane: dict[Key, float]) -> None:
    """Move each lane toward its neighbours, keeping order and one lane apart; real nodes and
    well-connected ones choose first, so placeholders (skip edges) give way to the main path."""

    def target(key: Key) -> float:
        # The (left) median rather than the mean: a fork lines up with its first branch, so
        # the main path stays straight where a mean would bend it halfway toward a shortcut.
        others = sorted(lane[o] for o in near[key] if _is_real(o)) or sorted(
            lane[o] for o in near[key]
        )
        return others[(len(others) - 1) // 2] if others else lane[key]

    wanted = [target(key) for key in layer]
    first = sorted(
        range(len(layer)), key=lambda i: (not _is_real(layer[i]), -len(near[layer[i]]), i)
    )
    fixed: list[int] = []
    placed = [lane[key] for key in layer]
    for i in first:
        at = bisect_left(fixed, i)
        low = placed[fixed[at - 1]] + (i - fixed[at - 1]) if at > 0 else float("-inf")
        high = placed[fixed[at]] - (fixed[at] - i) if at < len(fixed) else float("inf")
        placed[i] = min(max(wanted[i], low), high)
        insort(fixed, i)
    for key, value in zip(layer, placed, strict=True):
        lane[key] = value


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
