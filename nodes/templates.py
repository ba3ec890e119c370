"""Templates by name: starters shipped in ``resources/templates/`` and the user's own.

A starter file is compact, hand-readable JSON: nodes by name, edges as ``[src, dst]`` or
``[src, dst, port]``; positions come from the auto-layout and ids are fresh on every load.
User templates (``nodes.user_templates``: a project's graph or one block of it, saved in the
user's data folder) are graph JSON with a description; they keep their positions and blocks.
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
from layerloom.nodes.user_templates import user_template_files, user_template_graph


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    description: str
    sample: str  # the built-in sample dataset that fits it (used by training)
    user: bool = False  # saved by the user (``layerloom templates save``), not shipped


def _template_files() -> dict[str, Any]:
    folder = resources.files("layerloom.resources") / "templates"
    starters = {
        f.name.removesuffix(".json"): f for f in folder.iterdir() if f.name.endswith(".json")
    }
    return {**user_template_files(), **starters}  # a starter's name always means the starter


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
        user = "format" in data  # user templates are graph JSON (nodes.user_templates)
        infos.append(TemplateInfo(name, data["description"], data.get("sample", ""), user))
    return infos


def _free_port(graph: Graph, node_id: str, registry: Registry) -> str:
    spec = registry[graph.node(node_id).type_id]
    ports = spec.input_ports(len(graph.in_edges(node_id)))
    return next(p for p in ports if graph.edge_into(node_id, p) is None)


def load_template(name: str, registry: Registry) -> Graph:
    data = _read(name)
    if "format" in data:
        return user_template_graph(data, registry)
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
