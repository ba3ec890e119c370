"""Every edit applies and reverts exactly, so undo/redo in the GUI is exact too."""

from __future__ import annotations

import pytest

from layerloom.nodes.edits import (
    AddNode,
    Composite,
    Connect,
    Disconnect,
    Move,
    RemoveNodes,
    Rename,
    SetParams,
)
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.graph import Edge, Node, new_id
from layerloom.nodes.serialize import graph_to_dict
from tests.nodes.builders import dense_chain


def _snapshot(graph) -> dict:
    data = graph_to_dict(graph)
    data["nodes"].sort(key=lambda n: n["id"])
    data["edges"].sort(key=lambda e: (e["src"], e["dst"], e["port"]))
    return data


@pytest.mark.parametrize(
    "make_edit",
    [
        lambda g, ids: AddNode(Node(new_id(), "keras.layers.Dense", "extra", {"units": 3})),
        lambda g, ids: RemoveNodes([ids[1], ids[2]]),
        lambda g, ids: Disconnect(g.in_edges(ids[2])[0]),
        lambda g, ids: SetParams(ids[1], {**g.node(ids[1]).params, "units": 99}),
        lambda g, ids: Rename(ids[1], "renamed"),
        lambda g, ids: Move({ids[1]: (10.0, 20.0), ids[2]: (30.0, 40.0)}),
        lambda g, ids: Composite(
            [Disconnect(g.in_edges(ids[3])[0]), Connect(Edge(ids[1], ids[3], "input"))], "Rewire"
        ),
    ],
    ids=["add", "remove", "disconnect", "params", "rename", "move", "composite"],
)
def test_apply_then_revert_restores_the_graph(registry, make_edit) -> None:
    graph, ids = dense_chain(registry, 3)
    original = _snapshot(graph)
    edit = make_edit(graph, ids)
    edit.apply(graph)
    changed = _snapshot(graph)
    assert changed != original
    edit.revert(graph)
    assert _snapshot(graph) == original
    edit.apply(graph)  # redo
    assert _snapshot(graph) == changed


def test_connect_to_an_occupied_port_is_refused(registry) -> None:
    graph, ids = dense_chain(registry, 2)
    with pytest.raises(LayerloomError, match="is taken"):
        Connect(Edge(ids[0], ids[2], "input")).apply(graph)


def test_failed_composite_leaves_the_graph_unchanged(registry) -> None:
    graph, ids = dense_chain(registry, 2)
    original = _snapshot(graph)
    edit = Composite([Rename(ids[1], "first"), Connect(Edge(ids[0], ids[2], "input"))])
    with pytest.raises(LayerloomError):
        edit.apply(graph)
    assert _snapshot(graph) == original


def test_events_are_emitted_for_observers(registry) -> None:
    graph, ids = dense_chain(registry, 1)
    seen: list[str] = []
    graph.subscribe(lambda event: seen.append(event.kind))
    RemoveNodes([ids[1]]).apply(graph)
    assert seen == ["edge_removed", "node_removed"]
