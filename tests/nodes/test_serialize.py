"""Graph <-> dict: exact round trips, renamed types, upgrades and unknown (plugin) types."""

from __future__ import annotations

import pytest

from layerloom.nodes.errors import ProjectFileError
from layerloom.nodes.params import Int
from layerloom.nodes.registry import Registry
from layerloom.nodes.serialize import graph_from_dict, graph_to_dict
from layerloom.nodes.spec import NodeSpec
from tests.nodes.builders import dense_chain


def test_round_trip_is_exact(registry) -> None:
    graph, _ = dense_chain(registry, 4)
    data = graph_to_dict(graph)
    assert graph_to_dict(graph_from_dict(data, registry)) == data


def test_unknown_types_load_as_placeholders_and_round_trip(registry) -> None:
    graph, ids = dense_chain(registry, 1)
    data = graph_to_dict(graph)
    data["nodes"].append(
        {
            "id": "p1",
            "type": "acme.layers.Magic",
            "version": 7,
            "name": "magic",
            "params": {"power": [1, 2], "mode": "x"},
            "pos": [5.0, 6.0],
        }
    )
    data["edges"].append({"src": ids[1], "dst": "p1", "port": "input"})
    loaded = graph_from_dict(data, registry)
    assert loaded.node("p1").params == {"power": [1, 2], "mode": "x"}
    assert graph_to_dict(loaded) == data


def test_renamed_type_follows_replaces_and_upgrades_params() -> None:
    spec = NodeSpec(
        type_id="acme.Widen",
        category="core",
        doc="test spec",
        params=(Int("width", 4),),
        version=2,
        replaces=("acme.OldWiden",),
        upgrade=lambda params, version: {"width": params.pop("size")},
    )
    registry = Registry([spec])
    data = {
        "format": 1,
        "nodes": [
            {"id": "a", "type": "acme.OldWiden", "version": 1, "name": "w", "params": {"size": 9}}
        ],
        "edges": [],
    }
    node = graph_from_dict(data, registry).node("a")
    assert (node.type_id, node.version, node.params) == ("acme.Widen", 2, {"width": 9})


def test_newer_graph_format_is_refused(registry) -> None:
    with pytest.raises(ProjectFileError, match="update Layerloom"):
        graph_from_dict({"format": 99, "nodes": [], "edges": []}, registry)


def test_malformed_graph_data_is_one_clear_error(registry) -> None:
    with pytest.raises(ProjectFileError, match="malformed"):
        graph_from_dict({"format": 1, "nodes": [{"id": "x"}], "edges": []}, registry)
