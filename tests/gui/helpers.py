"""Helpers for GUI tests: find nodes, snapshot graphs, build small documents."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from layerloom.app.gui.session import untitled_document
from layerloom.nodes.graph import Edge, Node, new_id
from layerloom.nodes.serialize import graph_to_dict


def node_named(document, name: str) -> Node:
    node = document.graph.by_name(name)
    assert node is not None, f"no node named {name!r}"
    return node


def snapshot(document) -> dict:
    """The graph as its file form, with nodes/edges sorted so equal graphs compare equal."""
    data = graph_to_dict(document.graph)
    data["nodes"].sort(key=lambda n: n["id"])
    data["edges"].sort(key=lambda e: (e["src"], e["dst"], e["port"]))
    return data


def add_node(document, type_id: str, name: str, **params) -> Node:
    spec = document.registry[type_id]
    return Node(new_id(), spec.type_id, name, spec.normalize(params), (0.0, 0.0), spec.version)


def broken_document():
    """Input -> Dense, plus a second Dense with nothing connected (a missing-input problem)."""
    document = untitled_document()
    graph = document.graph
    source = add_node(document, "keras.Input", "features", shape=(8,))
    dense = add_node(document, "keras.layers.Dense", "hidden", units=4)
    orphan = add_node(document, "keras.layers.Dense", "orphan", units=2)
    for node in (source, dense, orphan):
        graph.add_node(node)
    graph.connect(Edge(source.id, dense.id, "input"))
    return document, orphan


def png_dir() -> Path:
    """Where GUI tests render their screenshots to look at: a temporary folder, never the
    repository (set LAYERLOOM_TEST_ARTIFACTS=DIR to keep them somewhere else)."""
    folder = Path(
        os.environ.get("LAYERLOOM_TEST_ARTIFACTS")
        or Path(tempfile.gettempdir()) / "layerloom-test-pngs"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
