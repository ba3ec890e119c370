"""User templates: a project's graph, or one block of it, saved by name for reuse.

They live in ``$XDG_DATA_HOME/layerloom/templates/NAME.json`` (``~/.local/share`` by default), one
file per template, and are graph JSON (``nodes.serialize``) plus a ``"description"``: positions,
parameters and blocks come back as they were saved, with fresh node ids on every load.
``layerloom new --template NAME``, ``layerloom templates`` and the editor's palette read them next to
the starters (``nodes.templates``); a starter's name always means the starter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from layerloom.nodes.blocks import members
from layerloom.nodes.errors import LayerloomError, ProjectFileError
from layerloom.nodes.graph import Graph, new_id
from layerloom.nodes.registry import Registry
from layerloom.nodes.serialize import graph_from_dict, graph_to_dict

SUFFIX = ".json"


def user_templates_dir() -> Path:
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data / "layerloom" / "templates"


def user_template_files() -> dict[str, Path]:
    folder = user_templates_dir()
    if not folder.is_dir():
        return {}
    return {p.name.removesuffix(SUFFIX): p for p in folder.iterdir() if p.name.endswith(SUFFIX)}


def template_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a template file (None when it can); any script is fine."""
    if not name.strip() or name != name.strip():
        return f"template name {name!r} is empty or starts or ends with spaces"
    if "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        return f"template name {name!r} may not contain '/' or '\\' or start with '.'"
    if len(name.encode("utf-8")) > 200:
        return f"template name {name[:20]!r}... is too long (200 bytes at most)"
    return None


def template_data(graph: Graph, description: str, block: str | None = None) -> dict[str, Any]:
    """The template JSON for the whole ``graph``, or for the nodes of its block ``block`` (their
    inner wires; the block is kept, so the template comes back as that block)."""
    if block is None:
        data = graph_to_dict(graph)
    else:
        ids = members(graph, graph.block(block))
        part = Graph()
        for node_id in ids:
            part.add_node(graph.node(node_id))
        inside = set(ids)
        for node_id in ids:
            for edge in graph.out_edges(node_id):
                if edge.dst in inside:
                    part.connect(edge)
        part.set_block(graph.block(block))
        data = graph_to_dict(part)
    names = [n["name"] for n in data["nodes"]]
    if not names:
        raise LayerloomError("there is nothing to save: the graph has no nodes")
    return {"description": description, **data}


def save_user_template(data: dict[str, Any], name: str, *, overwrite: bool = False) -> Path:
    """Write ``data`` as the user template ``name``: to a temporary sibling, then renamed."""
    problem = template_name_problem(name)
    if problem:
        raise LayerloomError(problem)
    folder = user_templates_dir()
    target = folder / f"{name}{SUFFIX}"
    if target.exists() and not overwrite:
        raise LayerloomError(f"a user template named {name!r} exists ({target}); use --force")
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{name}{SUFFIX}.tmp"
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    temporary.replace(target)
    return target


def fresh_ids(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A copy of graph JSON with new node ids everywhere, and old id -> new id."""
    ids = {item["id"]: new_id() for item in data["nodes"]}
    copy = dict(data)
    copy["nodes"] = [{**item, "id": ids[item["id"]]} for item in data["nodes"]]
    copy["edges"] = [{**e, "src": ids[e["src"]], "dst": ids[e["dst"]]} for e in data["edges"]]
    copy["blocks"] = [
        {**b, "nodes": [ids[i] for i in b["nodes"] if i in ids]} for b in data.get("blocks", [])
    ]
    return copy, ids


def user_template_graph(data: dict[str, Any], registry: Registry) -> Graph:
    try:
        copy, _ = fresh_ids(data)
    except (KeyError, TypeError) as error:
        raise ProjectFileError(f"the template is malformed ({error!r})") from None
    return graph_from_dict(copy, registry)


def user_template_payload(name: str) -> dict[str, Any]:
    """The graph JSON of the user template ``name`` (for inserting it into a graph)."""
    files = user_template_files()
    if name not in files:
        raise LayerloomError(f"no user template {name!r}; yours are: {', '.join(files) or 'none'}")
    try:
        data = json.loads(files[name].read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise LayerloomError(f"{files[name]}: not a readable template ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise LayerloomError(f"{files[name]}: not a Layerloom template")
    return data
