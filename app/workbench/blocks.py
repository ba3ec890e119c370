"""Blocks and user templates for the faces: group and ungroup nodes by name (planners for
``editing.edit_project``) and save a project's graph or one of its blocks as a user template."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from layerloom.app.workbench import open_project
from layerloom.app.workbench.editing import PlannedEdit, Planner, find_node
from layerloom.nodes.blocks import block_problem, members
from layerloom.nodes.edits import GroupBlock, Ungroup
from layerloom.nodes.errors import LayerloomError, UsageError
from layerloom.nodes.graph import Block, Graph
from layerloom.nodes.registry import Registry
from layerloom.nodes.templates import list_templates
from layerloom.nodes.user_templates import save_user_template, template_data


def _find_block(graph: Graph, name: str) -> Block:
    for block in graph.blocks():
        if block.name == name:
            return block
    known = ", ".join(b.name for b in graph.blocks()) or "none"
    raise UsageError(f"no block named {name!r}; blocks are: {known}")


def plan_group(name: str, node_names: Sequence[str]) -> Planner:
    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        ids = list(dict.fromkeys(find_node(graph, n).id for n in node_names))
        block = Block(name, tuple(ids))
        problem = block_problem(graph, block)
        if problem:
            raise UsageError(problem)
        listed = ", ".join(node_names)
        edit = GroupBlock(block, text=f"Group {name}")
        return PlannedEdit(edit, [f"grouped {listed} as block {name}"], f"edit: group {name}")

    return plan


def plan_ungroup(name: str) -> Planner:
    def plan(graph: Graph, registry: Registry) -> PlannedEdit:
        block = _find_block(graph, name)
        count = len(members(graph, block))
        edit = Ungroup(name, text=f"Ungroup {name}")
        return PlannedEdit(
            edit, [f"ungrouped block {name} ({count} nodes)"], f"edit: ungroup {name}"
        )

    return plan


def save_template(
    path: str | Path,
    name: str,
    *,
    block: str | None = None,
    description: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Save the project's graph (or its block ``block``) as the user template ``name``; the
    project is only read."""
    if name in {i.name for i in list_templates() if not i.user}:
        raise UsageError(f"{name!r} is a starter template's name; choose another")
    with open_project(path, readonly=True) as opened:
        if block is not None:
            _find_block(opened.graph, block)
        what = f"block {block} of {Path(path).name}" if block else Path(path).name
        try:
            data = template_data(opened.graph, description or f"from {what}", block)
            return save_user_template(data, name, overwrite=overwrite)
        except LayerloomError as error:
            raise UsageError(str(error)) from None
