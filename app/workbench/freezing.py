"""Freezing and unfreezing nodes by name: the planners of ``layerloom edit P.loom freeze|unfreeze``.

Planners in the sense of ``app.workbench.editing``: pure functions of the graph that check the
names and return one reversible edit (``nodes.freezing.SetTrainable``, the one the GUI's undo
stack pushes), saved by ``edit_project`` as one graph version.
"""

from __future__ import annotations

from collections.abc import Sequence

from layerloom.app.workbench.editing import PlannedEdit, Planner, _listing, find_node
from layerloom.nodes.edits import Composite, Edit
from layerloom.nodes.errors import UsageError
from layerloom.nodes.freezing import SetTrainable
from layerloom.nodes.graph import Graph, Node
from layerloom.nodes.registry import Registry


def _is_input(registry: Registry, node: Node) -> bool:
    spec = registry.get(node.type_id)
    return spec is not None and spec.is_input


def _named(graph: Graph, registry: Registry, names: Sequence[str]) -> list[Node]:
    nodes = [find_node(graph, name) for name in dict.fromkeys(names)]
    for node in nodes:
        if _is_input(registry, node):
            raise UsageError(f"{node.name} is an Input: it has no weights to freeze or unfreeze")
    return nodes


def _plan(
    to_freeze: list[Node], to_unfreeze: list[Node], message: str, named: set[str]
) -> PlannedEdit:
    """``named``: ids the user typed; only those are reported when they already were so."""
    freezing = [n for n in to_freeze if n.trainable]
    unfreezing = [n for n in to_unfreeze if not n.trainable]
    changes: list[str] = []
    edits: list[Edit] = []
    if freezing:
        changes.append(f"froze {len(freezing)}: {_listing([n.name for n in freezing])}")
        edits.append(SetTrainable([n.id for n in freezing], False))
    if unfreezing:
        changes.append(f"unfroze {len(unfreezing)}: {_listing([n.name for n in unfreezing])}")
        edits.append(SetTrainable([n.id for n in unfreezing], True))
    still = [n.name for n in to_freeze if not n.trainable and n.id in named]
    if still:
        changes.append(f"already frozen: {_listing(still)}")
    still = [n.name for n in to_unfreeze if n.trainable and n.id in named]
    if still:
        changes.append(f"already trainable: {_listing(still)}")
    if not edits:
        return PlannedEdit(None, changes)
    edit = edits[0] if len(edits) == 1 else Composite(edits, text="Freeze")
    return PlannedEdit(edit, changes, message)


def plan_freeze(names: Sequence[str] = (), all_but: Sequence[str] = ()) -> Planner:
    """Freeze the named nodes, or (``all_but``) every node but the named ones, which are made
    trainable: "train only the head" in one command."""

    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        if bool(names) == bool(all_but):
            raise UsageError("give the nodes to freeze, or --all-but the nodes to keep training")
        if names:
            nodes = _named(graph, registry, names)
            message = f"edit: freeze {', '.join(n.name for n in nodes)}"
            return _plan(nodes, [], message, {n.id for n in nodes})
        keep = _named(graph, registry, all_but)
        kept = {n.id for n in keep}
        rest = [n for n in graph.nodes() if n.id not in kept and not _is_input(registry, n)]
        message = f"edit: freeze all but {', '.join(n.name for n in keep)}"
        return _plan(rest, keep, message, kept)

    return plan


def plan_unfreeze(names: Sequence[str] = (), everything: bool = False) -> Planner:
    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        if bool(names) == everything:
            raise UsageError("give the nodes to unfreeze, or --all")
        if everything:
            nodes = [n for n in graph.nodes() if not _is_input(registry, n)]
            return _plan([], nodes, "edit: unfreeze all", set())
        nodes = _named(graph, registry, names)
        message = f"edit: unfreeze {', '.join(n.name for n in nodes)}"
        return _plan([], nodes, message, {n.id for n in nodes})

    return plan
