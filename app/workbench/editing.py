"""Editing a saved project's graph by names: add, remove, connect, disconnect, rename, set.

Each operation is a *planner*: a pure function of the graph that checks what the user typed and
returns the reversible edits (``nodes.edits``, the ones the GUI's undo stack pushes) with one line
per change and the graph version's message, or raises UsageError naming what is wrong.
``edit_project`` plans on a read-only view first, so a refused edit leaves the file's bytes as
they were, then plans again on the latest version it opened for writing (another process may have
saved in between) and saves exactly one graph version.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layerloom.app.workbench import GraphReport, analyse, open_project
from layerloom.nodes.edits import (
    AddNode,
    Composite,
    Connect,
    Disconnect,
    Edit,
    Move,
    RemoveNodes,
    Rename,
    SetParams,
)
from layerloom.nodes.errors import UsageError
from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.layout import free_spot, room_after
from layerloom.nodes.param_text import format_value, parse_text
from layerloom.nodes.registry import Registry
from layerloom.nodes.spec import NodeSpec

LISTED = 30  # names listed in one message before "... and N more"


@dataclass
class PlannedEdit:
    """What one command will do: the edits (None when nothing would change) and what to say."""

    edit: Edit | None
    changes: list[str]
    message: str = ""


@dataclass
class EditOutcome:
    changes: list[str]
    changed: bool  # False: nothing to save (the graph already was so)
    version_id: int | None
    message: str
    report: GraphReport


Planner = Callable[[Graph, Registry], PlannedEdit]


def edit_project(path: str | Path, planner: Planner) -> EditOutcome:
    """Plan, then apply and save as one graph version; UsageError leaves the file untouched."""
    with open_project(path, readonly=True) as opened:
        planned = planner(opened.graph, opened.registry)
        if planned.edit is None:
            report = analyse(opened.graph, opened.registry)
            return EditOutcome(planned.changes, False, opened.version_id, "", report)
    with open_project(path) as opened:
        planned = planner(opened.graph, opened.registry)
        if planned.edit is not None:
            planned.edit.apply(opened.graph)
            opened.save(planned.message)
        report = analyse(opened.graph, opened.registry)
        changed = planned.edit is not None
        return EditOutcome(planned.changes, changed, opened.version_id, planned.message, report)


# --- finding what the user named -----------------------------------------------------------------


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LISTED])
    more = f", ... and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return (shown + more) or "none"


def _close(word: str, candidates: Sequence[str]) -> str:
    found = difflib.get_close_matches(word, list(candidates), n=1)
    return f"did you mean {found[0]!r}? " if found else ""


def find_node(graph: Graph, name: str) -> Node:
    matches = [node for node in graph.nodes() if node.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"{len(matches)} nodes are named {name!r}; rename one in the editor first")
    names = [node.name for node in graph.nodes()]
    raise UsageError(f"no node {name!r}; {_close(name, names)}nodes are: {_listing(names)}")


def find_type(registry: Registry, text: str) -> NodeSpec:
    """A node type by its full id (``keras.layers.Dense``) or its short name (``Dense``, any case)."""
    spec = registry.get(text)
    if spec is not None:
        return spec
    for same in (lambda s: s.label == text, lambda s: s.label.lower() == text.lower()):
        found = [s for s in registry if same(s)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(s.type_id for s in found)
            raise UsageError(f"{text!r} names {len(found)} node types ({ids}); give the full id")
    labels = [s.label for s in registry]
    raise UsageError(
        f"unknown node type {text!r}; {_close(text, labels)}see `layerloom layers` for every type"
    )


def spec_of(registry: Registry, node: Node) -> NodeSpec:
    spec = registry.get(node.type_id)
    if spec is None:
        raise UsageError(
            f"{node.name} has the unknown type {node.type_id!r} (is its plugin installed?);"
            " its parameters cannot be checked"
        )
    return spec


def name_problem(graph: Graph, name: str, node_id: str | None = None) -> str | None:
    """Why ``name`` cannot name a node (``node_id``: the node being renamed), or None."""
    if not name.strip():
        return "a node name cannot be empty"
    if not name.replace("_", "a").replace("-", "a").isalnum():
        return f"name {name!r} must be letters, digits, '_' or '-'"
    other = graph.by_name(name)
    if other is not None and other.id != node_id:
        return f"{name!r} is already the name of another node"
    return None


def split_assignment(text: str, what: str) -> tuple[str, str]:
    """``KEY=VALUE`` -> (key, value text); ``what`` says what KEY is, for the error."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{text!r} is not {what}=VALUE")
    return key.strip(), value


def param_value(spec: NodeSpec, node_name: str, key: str, text: str) -> Any:
    """``text`` as the value of ``spec``'s param ``key``; UsageError names the node and param."""
    names = [p.name for p in spec.params]
    if key not in names:
        known = ", ".join(names) or "none"
        raise UsageError(
            f"{node_name} ({spec.label}) has no parameter {key!r}; {_close(key, names)}"
            f"its parameters are: {known}"
        )
    param = spec.param(key)
    value = parse_text(param, text)
    problem = param.check(value)
    if problem:
        raise UsageError(f"{node_name}.{problem}")
    return value


# --- planners ------------------------------------------------------------------------------------


def plan_add(
    type_text: str,
    name: str | None = None,
    after: str | None = None,
    between: tuple[str, str] | None = None,
    assignments: Sequence[str] = (),
) -> Planner:
    """A new node of a type, unconnected, or wired in ``after`` a node (it takes over that
    node's outgoing wires) or ``between`` two nodes (it replaces the wire from one to the other)."""

    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        spec = find_type(registry, type_text)
        node_name = name if name is not None else graph.unique_name(spec.label.lower())
        problem = name_problem(graph, node_name)
        if problem:
            raise UsageError(problem)
        params = spec.normalize({})
        for text in assignments:
            key, value = split_assignment(text, "PARAM")
            params[key] = param_value(spec, node_name, key, value)
        title = f"{node_name} ({spec.label})"
        details = _param_lines(node_name, spec, params)
        if after is None and between is None:
            node = Node(new_id(), spec.type_id, node_name, params, free_spot(graph), spec.version)
            changes = [f"added {title}, not connected", *details]
            return PlannedEdit(AddNode(node), changes, f"edit: add {title}")
        if between is not None:
            src, dst = find_node(graph, between[0]), find_node(graph, between[1])
            moved = [e for e in graph.out_edges(src.id) if e.dst == dst.id]
            if not moved:
                raise UsageError(f"{src.name} does not feed {dst.name}; nothing to add between")
            where = f"between {src.name} and {dst.name}"
        else:
            src = find_node(graph, after or "")
            moved = graph.out_edges(src.id)
            where = f"after {src.name}"
        port = _first_port(spec, node_name)
        pos, moves = room_after(graph, src.id, [e.dst for e in moved])
        node = Node(new_id(), spec.type_id, node_name, params, pos, spec.version)
        edits: list[Edit] = [Move(moves)] if moves else []
        edits += [Disconnect(e) for e in moved]
        edits += [AddNode(node), Connect(Edge(src.id, node.id, port))]
        edits += [Connect(Edge(node.id, e.dst, e.port)) for e in moved]
        chain = [src.name, node_name]
        if moved:
            chain.append(", ".join(graph.node(e.dst).name for e in moved))
        changes = [f"added {title} {where}: {' -> '.join(chain)}", *details]
        return PlannedEdit(
            Composite(edits, text=f"Add {node_name}"), changes, f"edit: add {title} {where}"
        )

    return plan


def _first_port(spec: NodeSpec, node_name: str) -> str:
    ports = spec.input_ports(0)
    if not ports:
        raise UsageError(f"{node_name} ({spec.label}) takes no inputs; it cannot go after a node")
    return ports[0]


def _param_lines(node_name: str, spec: NodeSpec, params: dict[str, Any]) -> list[str]:
    """The params given that differ from the type's defaults."""
    defaults = spec.defaults()
    return [
        f"  {node_name}.{key} = {format_value(value)}"
        for key, value in params.items()
        if key in defaults and value != defaults[key]
    ]


def plan_remove(names: Sequence[str], reconnect: bool = False) -> Planner:
    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        nodes = [find_node(graph, name) for name in dict.fromkeys(names)]
        ids = {node.id for node in nodes}
        edits: list[Edit] = [RemoveNodes([node.id for node in nodes])]
        changes = []
        for node in nodes:
            ins = [e for e in graph.in_edges(node.id)]
            outs = [e for e in graph.out_edges(node.id) if e.dst not in ids]
            line = f"removed {node.name} ({node.type_id.rsplit('.', 1)[-1]})"
            if reconnect and outs:
                if len(ins) != 1 or ins[0].src in ids:
                    raise UsageError(
                        f"--reconnect needs {node.name} to have exactly one input, it has"
                        f" {len(ins)}"
                    )
                source = graph.node(ins[0].src)
                edits += [Connect(Edge(source.id, e.dst, e.port)) for e in outs]
                fed = ", ".join(graph.node(e.dst).name for e in outs)
                line += f"; {source.name} now feeds {fed}"
            elif outs:
                cut = ", ".join(f"{graph.node(e.dst).name}.{e.port}" for e in outs)
                line += f"; unconnected now: {cut}"
            changes.append(line)
        removed = ", ".join(node.name for node in nodes)
        return PlannedEdit(
            Composite(edits, text=f"Delete {removed}"), changes, f"edit: remove {removed}"
        )

    return plan


def plan_connect(src_name: str, dst_name: str, port: str | None = None) -> Planner:
    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        src, dst = find_node(graph, src_name), find_node(graph, dst_name)
        spec = spec_of(registry, dst)
        if src.id == dst.id:
            raise UsageError(f"{src.name} cannot feed itself (a cycle)")
        if graph.has_path(dst.id, src.id):
            raise UsageError(f"connecting {src.name} to {dst.name} would make a cycle:"
                             f" {dst.name} already feeds {src.name}")  # fmt: skip
        chosen = port if port is not None else _free_port(graph, spec, dst)
        if not spec.accepts_port(chosen):
            ports = ", ".join(spec.input_ports(len(graph.in_edges(dst.id)))) or "none"
            raise UsageError(
                f"{dst.name} ({spec.label}) has no input {chosen!r}; its inputs: {ports}"
            )
        edge = Edge(src.id, dst.id, chosen)
        occupant = graph.edge_into(dst.id, chosen)
        if occupant == edge:
            return PlannedEdit(None, [f"{src.name} already feeds {dst.name}.{chosen}"])
        line = f"connected {src.name} -> {dst.name}.{chosen}"
        edits: list[Edit] = [Connect(edge)]
        if occupant is not None:
            edits.insert(0, Disconnect(occupant))
            line += f" (replaces {graph.node(occupant.src).name})"
        message = f"edit: connect {src.name} -> {dst.name}.{chosen}"
        return PlannedEdit(Composite(edits, text="Connect"), [line], message)

    return plan


def _free_port(graph: Graph, spec: NodeSpec, dst: Node) -> str:
    taken = {e.port: graph.node(e.src).name for e in graph.in_edges(dst.id)}
    free = [p for p in spec.input_ports(len(taken)) if p not in taken]
    if free:
        return free[0]
    if not taken:
        raise UsageError(f"{dst.name} ({spec.label}) takes no inputs")
    held = ", ".join(f"{port} from {name}" for port, name in taken.items())
    raise UsageError(f"every input of {dst.name} is taken ({held}); give --port to replace one")


def plan_disconnect(src_name: str, dst_name: str, port: str | None = None) -> Planner:
    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        src, dst = find_node(graph, src_name), find_node(graph, dst_name)
        edges = [e for e in graph.out_edges(src.id) if e.dst == dst.id]
        if port is not None:
            edges = [e for e in edges if e.port == port]
        if not edges:
            on = f" on input {port!r}" if port is not None else ""
            raise UsageError(f"{src.name} does not feed {dst.name}{on}")
        if len(edges) > 1:
            ports = ", ".join(e.port for e in edges)
            raise UsageError(f"{src.name} feeds {dst.name} on {ports}; give --port")
        (edge,) = edges
        line = f"disconnected {src.name} -> {dst.name}.{edge.port}"
        return PlannedEdit(Disconnect(edge), [line], f"edit: disconnect {src.name} -> {dst.name}")

    return plan


def plan_rename(old: str, new: str) -> Planner:
    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        node = find_node(graph, old)
        if new == node.name:
            return PlannedEdit(None, [f"{old} is already called so"])
        problem = name_problem(graph, new, node.id)
        if problem:
            raise UsageError(problem)
        edit = Rename(node.id, new, text=f"Rename {old} to {new}")
        return PlannedEdit(edit, [f"renamed {old} -> {new}"], f"edit: rename {old} -> {new}")

    return plan


def plan_set(assignments: Sequence[str]) -> Planner:
    """``NODE.PARAM=VALUE`` for one or more params of one or more nodes, as one edit."""

    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        new_params: dict[str, dict[str, Any]] = {}
        changed: list[str] = []  # node ids, in the order first changed
        changes: list[str] = []
        targets: list[str] = []
        unchanged: list[str] = []
        for text in assignments:
            target, value_text = split_assignment(text, "NODE.PARAM")
            node_name, dot, key = target.rpartition(".")
            if not dot or not node_name:
                raise UsageError(f"{text!r} is not NODE.PARAM=VALUE")
            node = find_node(graph, node_name)
            spec = spec_of(registry, node)
            value = param_value(spec, node.name, key, value_text)
            params = new_params.setdefault(node.id, spec.normalize(node.params))
            old, params[key] = params.get(key), value
            if old == value:
                unchanged.append(f"{node.name}.{key} is already {format_value(value)}")
                continue
            changes.append(f"{node.name}.{key}: {format_value(old)} -> {format_value(value)}")
            targets.append(f"{node.name}.{key}")
            if node.id not in changed:
                changed.append(node.id)
        if not changes:
            return PlannedEdit(None, unchanged)
        edits: list[Edit] = [SetParams(node_id, new_params[node_id]) for node_id in changed]
        what = ", ".join(targets)
        return PlannedEdit(
            Composite(edits, text=f"Set {what}"), changes + unchanged, f"edit: set {what}"
        )

    return plan
