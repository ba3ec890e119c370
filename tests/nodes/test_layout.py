"""Auto-layout properties: chains stay one column, a residual block's main path is straight,
skip edges take a lane beside it, and no two nodes share a spot."""

from __future__ import annotations

import itertools

from layerloom.nodes.graph import Edge, Graph, Node
from layerloom.nodes.layout import ROW_GAP, TB_LAYER_GAP, layered_positions
from layerloom.nodes.registry import default_registry
from layerloom.nodes.templates import list_templates, load_template


def _graph(edges: list[tuple[str, str]]) -> Graph:
    graph = Graph()
    for name in dict.fromkeys(n for edge in edges for n in edge):
        graph.add_node(Node(name, "keras.layers.Dense", name, {}, (0.0, 0.0), 1))
    for i, (src, dst) in enumerate(edges):
        graph.connect(Edge(src, dst, f"in{i}"))
    return graph


def _no_overlaps(positions: dict[str, tuple[float, float]]) -> None:
    for (a, pa), (b, pb) in itertools.combinations(positions.items(), 2):
        assert abs(pa[0] - pb[0]) >= ROW_GAP or abs(pa[1] - pb[1]) >= ROW_GAP, (a, b)


def test_a_chain_is_one_column_top_to_bottom():
    graph = _graph([("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")])
    positions = layered_positions(graph, "tb")
    assert {x for x, _ in positions.values()} == {positions["a"][0]}
    assert [positions[n][1] for n in "abcde"] == [i * TB_LAYER_GAP for i in range(5)]


def test_residual_main_path_is_straight_and_the_skip_goes_beside_it():
    graph = _graph(
        [("x", "conv1"), ("conv1", "conv2"), ("conv2", "add"), ("x", "add"), ("add", "out")]
    )
    positions = layered_positions(graph, "tb")
    main = ["x", "conv1", "conv2", "add", "out"]
    assert len({positions[n][0] for n in main}) == 1
    _no_overlaps(positions)


def test_projection_shortcut_keeps_the_first_branch_straight():
    graph = _graph([("x", "c1"), ("c1", "c2"), ("c2", "add"), ("x", "proj"), ("proj", "add")])
    positions = layered_positions(graph, "lr")
    assert len({positions[n][1] for n in ("x", "c1", "c2", "add")}) == 1
    assert positions["proj"][1] != positions["c1"][1]
    _no_overlaps(positions)


def test_every_template_lays_out_without_overlaps():
    registry = default_registry()
    for info in list_templates():
        graph = load_template(info.name, registry)
        for direction in ("lr", "tb"):
            _no_overlaps(layered_positions(graph, direction))


def test_a_cycle_still_gets_positions():
    graph = _graph([("a", "b"), ("b", "c")])
    graph._g.add_edge("c", "a", key="loop")  # what a broken file could hold
    assert set(layered_positions(graph)) == {"a", "b", "c"}
