"""Starter templates shipped in ``resources/templates/``, loadable by name.

A template file is compact, hand-readable JSON: nodes by name, edges as ``[src, dst]`` or
``[src, dst, port]``; positions come from the auto-layout and ids are fresh on every load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.layout import layered_positions
from layerloom.nodes.registry import Registry


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    description: str
    sample: str  # the built-in sample dataset that fits it (used by training)


def _template_files() -> dict[str, Any]:
    folder = resources.files("layerloom.resources") / "templates"
    return {f.name.removesuffix(".json"): f for f in folder.iterdir() if f.name.endswith(".json")}


def _read(name: str) -> dict[str, Any]:
    files = _template_files()
    if name not in files:
        known = ", ".join(sorted(files))
        raise LayerloomError(f"unknown template {name!r}; available: {known}")
    return json.loads(files[name].read_text(encoding="utf-8"))


def list_templates() -> list[TemplateInfo]:
    infos = []
    for name in sorted(_template_files()):
        data = _read(name)
        infos.append(TemplateInfo(name, data["description"], data.get("sample", "")))
    return infos


def _free_port(graph: Graph, node_id: str, registry: Registry) -> str:
    spec = registry[graph.node(node_id).type_id]
    ports = spec.input_ports(len(graph.in_edges(node_id)))
    return next(p for p in ports if graph.edge_into(node_id, p) is None)


def load_template(name: str, registry: Registry) -> Graph:
    data = _read(name)
    graph = Graph()
    ids: dict[str, str] = {}
    for item in data["nodes"]:
        spec = registry[item["type"]]
        ids[item["name"]] = new_id()
        params = spec.normalize(item.get("params", {}))
        graph.add_node(
            Node(ids[item["name"]], spec.type_id, item["name"], params, (0, 0), spec.version)
        )
    for src, dst, *port in data["edges"]:
        graph.connect(
            Edge(ids[src], ids[dst], port[0] if port else _free_port(graph, ids[dst], registry))
        )
    for node_id, pos in layered_positions(graph).items():
        graph.move(node_id, pos)
    return graph
