"""Validation and live shape inference: every problem listed, shapes incremental."""

from __future__ import annotations

from layerloom.nodes.analysis import Analysis
from layerloom.nodes.edits import Connect, RemoveNodes, SetParams
from layerloom.nodes.graph import Edge, Graph, Node, new_id
from tests.nodes.builders import add, dense_chain, link


def test_shapes_and_params_flow_through_a_chain(registry) -> None:
    graph, ids = dense_chain(registry, 3, width=4)
    analysis = Analysis(graph, registry)
    assert analysis.shape(ids[-1]) == (4,)
    assert analysis.param_count(ids[1]) == 4 * 4 + 4
    assert analysis.total_params == 3 * 20
    assert analysis.problems() == []
    assert analysis.outputs() == [ids[-1]]


def test_every_problem_is_listed_not_just_the_first(registry) -> None:
    graph = Graph()
    inp = add(graph, registry, "keras.Input", "x", shape=(4,))
    bad_param = add(graph, registry, "Dense", "bad_units", units=0)
    unconnected = add(graph, registry, "Dense", "loose")
    link(graph, inp, bad_param)
    dup = add(graph, registry, "Dense", "loose")
    link(graph, inp, dup)
    problems = Analysis(graph, registry).problems()
    kinds = {(p.node_id, p.kind) for p in problems}
    assert (bad_param, "param") in kinds
    assert (unconnected, "missing_input") in kinds
    assert (unconnected, "name") in kinds and (dup, "name") in kinds
    assert any("units must be >= 1" in p.message for p in problems)


def test_cycle_is_reported_for_every_node_on_it(registry) -> None:
    graph, ids = dense_chain(registry, 3)
    graph.disconnect(graph.in_edges(ids[1])[0])
    graph.connect(Edge(ids[3], ids[1], "input"))
    problems = Analysis(graph, registry).problems()
    cyclic = {p.node_id for p in problems if p.kind == "cycle"}
    assert cyclic == set(ids[1:])


def test_shape_error_names_the_reason(registry) -> None:
    graph = Graph()
    inp = add(graph, registry, "keras.Input", "x", shape=(None,))
    dense = add(graph, registry, "Dense", "d")
    link(graph, inp, dense)
    (problem,) = Analysis(graph, registry).problems()
    assert problem.node_id == dense and problem.kind == "shape"
    assert "feature size must be known" in problem.message


def test_unknown_type_is_a_problem_not_a_crash(registry) -> None:
    graph = Graph()
    inp = add(graph, registry, "keras.Input", "x", shape=(3,))
    alien = Node(new_id(), "acme.layers.Magic", "magic", {"power": 9})
    graph.add_node(alien)
    link(graph, inp, alien.id)
    (problem,) = Analysis(graph, registry).problems()
    assert problem.kind == "unknown_type" and "acme.layers.Magic" in problem.message


def test_empty_graph_and_graph_without_input(registry) -> None:
    assert [p.kind for p in Analysis(Graph(), registry).problems()] == ["no_input"]
    graph = Graph()
    add(graph, registry, "Dense", "d")
    kinds = [p.kind for p in Analysis(graph, registry).problems()]
    assert "no_input" in kinds and "missing_input" in kinds


def test_param_edit_reinfers_only_downstream_and_stops_when_unchanged(registry) -> None:
    graph, ids = dense_chain(registry, 10)
    analysis = Analysis(graph, registry)
    analysis.problems()
    before = analysis.recomputed
    SetParams(ids[5], {**graph.node(ids[5]).params, "use_bias": False}).apply(graph)
    assert analysis.param_count(ids[5]) == 8 * 8
    assert analysis.recomputed - before == 1  # same output shape: nothing downstream re-inferred

    before = analysis.recomputed
    SetParams(ids[-1], {**graph.node(ids[-1]).params, "units": 3}).apply(graph)
    assert analysis.shape(ids[-1]) == (3,)
    assert analysis.recomputed - before == 1

    before = analysis.recomputed
    SetParams(ids[5], {**graph.node(ids[5]).params, "units": 2}).apply(graph)
    assert analysis.param_count(ids[6]) == 2 * 8 + 8
    assert analysis.recomputed - before == 2  # dense_5 and dense_6; dense_6's output is unchanged
    assert analysis.total_params == sum(analysis.param_count(i) or 0 for i in ids)


def test_problem_appears_and_clears_with_edits(registry) -> None:
    graph, ids = dense_chain(registry, 2)
    analysis = Analysis(graph, registry)
    assert analysis.is_valid
    edit = RemoveNodes([ids[1]])
    edit.apply(graph)
    assert [p.kind for p in analysis.node_problems(ids[2])] == ["missing_input"]
    edit.revert(graph)
    assert analysis.is_valid and analysis.shape(ids[2]) == (8,)


def test_connecting_fixes_missing_input(registry) -> None:
    graph = Graph()
    inp = add(graph, registry, "keras.Input", "x", shape=(5,))
    dense = add(graph, registry, "Dense", "d", units=2)
    analysis = Analysis(graph, registry)
    assert not analysis.is_valid
    Connect(Edge(inp, dense, "input")).apply(graph)
    assert analysis.is_valid and analysis.shape(dense) == (2,)


def test_changes_since_names_only_the_nodes_that_changed(registry) -> None:
    graph, ids = dense_chain(registry, 6)
    analysis = Analysis(graph, registry)
    start = analysis.generation
    assert analysis.changes_since(start) == set()

    SetParams(ids[3], {**graph.node(ids[3]).params, "units": 5}).apply(graph)
    mark = analysis.generation
    assert analysis.changes_since(start) == {ids[3], ids[4]}  # dense_3's output and dense_4's count

    graph.rename(ids[5], graph.node(ids[6]).name)  # a duplicate name: a problem on both nodes
    assert analysis.changes_since(mark) == {ids[5], ids[6]}
    assert analysis.changes_since(-1) is None  # older than the log: the reader refreshes all
