"""Graph <-> JSON-able dict: the graph part of the project file and of templates and the clipboard.

Node types are written by their stable ``type_id`` with the spec version. On load, renamed types are
followed through ``replaces`` and older params upgraded; types nobody provides (a plugin that is not
installed) load as-is, keep their params and are written back unchanged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from layerloom.nodes.blocks import blocks_from_list, blocks_to_list
from layerloom.nodes.errors import ProjectFileError
from layerloom.nodes.graph import Edge, Graph, Node
from layerloom.nodes.registry import Registry

# 2: a node may carry "trainable": false (frozen). A graph is written in the oldest format that
# holds it, so a graph with no frozen node stays format 1 (same bytes and hash as before, readable
# by older versions) and an older version refuses a frozen one instead of training it whole.
GRAPH_FORMAT = 2


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def graph_to_dict(graph: Graph) -> dict[str, Any]:
    nodes = [
        {
            "id": n.id,
            "type": n.type_id,
            "version": n.version,
            "name": n.name,
            "params": {k: _jsonable(v) for k, v in n.params.items()},
            "pos": [round(n.pos[0], 2), round(n.pos[1], 2)],
            **({} if n.trainable else {"trainable": False}),
        }
        for n in graph.nodes()
    ]
    frozen = any("trainable" in item for item in nodes)
    data = {
        "format": 2 if frozen else 1,
        "nodes": nodes,
        "edges": [{"src": e.src, "dst": e.dst, "port": e.port} for e in graph.edges()],
    }
    blocks = blocks_to_list(graph)
    if blocks:  # only then: a graph without blocks keeps the bytes older versions wrote
        data["blocks"] = blocks
    return data


def node_from_dict(item: dict[str, Any], registry: Registry) -> Node:
    type_id = registry.resolve(item["type"])
    spec = registry.get(type_id)
    params = dict(item.get("params", {}))
    version = int(item.get("version", 1))
    if spec is not None:
        if version < spec.version and spec.upgrade is not None:
            params = spec.upgrade(params, version)
        version = spec.version
        params = spec.normalize(params)
    x, y = item.get("pos", (0.0, 0.0))
    trainable = item.get("trainable", True)
    if not isinstance(trainable, bool):  # a hand-edited "no" would read as true
        raise ProjectFileError(f"node {item['name']!r} has trainable={trainable!r}, not true/false")
    pos = (float(x), float(y))
    return Node(item["id"], type_id, item["name"], params, pos, version, trainable)


def graph_from_dict(data: dict[str, Any], registry: Registry) -> Graph:
    graph = Graph()
    try:
        # Inside the try: a hand-edited "format" may be text, which a comparison cannot take.
        if data.get("format", 1) > GRAPH_FORMAT:
            raise ProjectFileError(
                f"this graph uses format {data['format']}; this version of Layerloom reads up to "
                f"{GRAPH_FORMAT}: update Layerloom"
            )
        for item in data["nodes"]:
            graph.add_node(node_from_dict(item, registry))
        for item in data["edges"]:
            edge = Edge(item["src"], item["dst"], item["port"])
            spec = registry.get(graph.node(edge.dst).type_id) if edge.dst in graph else None
            # A hand-edited file may name a port the node does not have; every later step (shape
            # inference, compile) assumes ports are real, so refuse it here, by name.
            if spec is not None and not spec.accepts_port(str(edge.port)):
                raise ProjectFileError(
                    f"the graph has an edge into {graph.node(edge.dst).name!r} on port "
                    f"{edge.port!r}, which that node does not have"
                )
            graph.connect(edge)
        blocks_from_list(graph, data.get("blocks", []))
    except (KeyError, TypeError, ValueError) as error:
        raise ProjectFileError(f"the graph data is malformed ({error!r})") from None
    return graph


def stored_graph(path: Path, version_id: int, raw: bytes | None, digest: str) -> dict[str, Any]:
    """A graph version's stored bytes as a dict, or ProjectFileError naming the file and version:
    a hand-edited or damaged file may hold bytes that are not UTF-8, fail their checksum, or be
    JSON that is not a graph object."""
    try:
        text = bytes(raw or b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectFileError(
            f"{path}: graph version {version_id} is damaged (byte {exc.start} is not UTF-8 text)"
        ) from None
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != digest:
        raise ProjectFileError(
            f"{path}: graph version {version_id} is damaged (its checksum does not match)"
        )
    try:
        data = json.loads(text)
    except RecursionError:
        raise ProjectFileError(
            f"{path}: graph version {version_id} is nested too deeply to be a Layerloom graph"
        ) from None
    except ValueError as exc:
        raise ProjectFileError(
            f"{path}: graph version {version_id} is not valid JSON ({exc})"
        ) from None
    if not isinstance(data, dict):
        raise ProjectFileError(
            f"{path}: graph version {version_id} is not a graph (a JSON {type(data).__name__}, "
            "not an object)"
        )
    return data
