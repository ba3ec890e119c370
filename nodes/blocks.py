"""Blocks: named groups of nodes that the editor shows as one card while collapsed.

A block is a view of the graph, never part of the model: compile, shapes and the BuildPlan ignore
it. The graph keeps blocks by name (``Graph.blocks``); a block lists node ids, and ids of nodes
removed since are skipped, so undoing the removal brings the node back into its block. Blocks do
not nest: a node belongs to at most one. The graph JSON stores them as ``"blocks"`` (see
docs/file-format.md); a graph without blocks writes no key, so older files and their bytes stay
as they were.
"""

from __future__ import annotations

from typing import Any

from layerloom.nodes.errors import LayerloomError, ProjectFileError
from layerloom.nodes.graph import Block, Edge, Graph


def members(graph: Graph, block: Block) -> list[str]:
    """The block's node ids that are still in the graph, in the block's order."""
    return [i for i in block.node_ids if i in graph]


def block_of(graph: Graph) -> dict[str, str]:
    """Node id -> the name of the block it belongs to."""
    return {i: b.name for b in graph.blocks() for i in members(graph, b)}


def boundary(graph: Graph, node_ids: set[str] | list[str]) -> tuple[list[Edge], list[Edge]]:
    """(edges from outside into the nodes, edges from the nodes out): a block's ports."""
    inside = set(node_ids)
    inputs = [e for i in node_ids for e in graph.in_edges(i) if e.src not in inside]
    outputs = [e for i in node_ids for e in graph.out_edges(i) if e.dst not in inside]
    return inputs, outputs


def block_problem(graph: Graph, block: Block, *, replacing: str | None = None) -> str | None:
    """Why ``block`` cannot be added (None when it can); ``replacing`` names the block it
    replaces, whose name and nodes it may reuse."""
    name = block.name
    if not name.strip():
        return "a block needs a name"
    if name != name.strip():
        return f"block name {name!r} starts or ends with spaces"
    if name != replacing and name in {b.name for b in graph.blocks()}:
        return f"there is already a block named {name!r}"
    if not block.node_ids:
        return f"block {name!r} has no nodes"
    missing = [i for i in block.node_ids if i not in graph]
    if missing:
        return f"block {name!r} names {len(missing)} node(s) that are not in the graph"
    taken = {i: b for i, b in block_of(graph).items() if b != replacing}
    clashes = sorted({taken[i] for i in block.node_ids if i in taken})
    if clashes:
        owned = [graph.node(i).name for i in block.node_ids if i in taken]
        return f"{', '.join(owned)} already belong to block {clashes[0]!r} (blocks do not nest)"
    return None


def check_block(graph: Graph, block: Block, *, replacing: str | None = None) -> None:
    problem = block_problem(graph, block, replacing=replacing)
    if problem:
        raise LayerloomError(problem)


def blocks_to_list(graph: Graph) -> list[dict[str, Any]]:
    """The graph JSON's ``"blocks"`` entries; blocks whose nodes are all gone are left out."""
    out = []
    for block in graph.blocks():
        ids = members(graph, block)
        if ids:
            out.append({"name": block.name, "nodes": ids, "collapsed": block.collapsed})
    return out


def blocks_from_list(graph: Graph, items: Any) -> None:
    """Add the blocks of a graph JSON's ``"blocks"`` (ProjectFileError naming a bad one)."""
    if not isinstance(items, list):
        raise ProjectFileError('the graph\'s "blocks" is not a list')
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("nodes"), list):
            raise ProjectFileError(f"the graph has a malformed block entry: {item!r}"[:200])
        block = Block(str(item.get("name", "")), tuple(map(str, item["nodes"])))
        block = Block(block.name, block.node_ids, bool(item.get("collapsed", True)))
        problem = block_problem(graph, block)
        if problem:
            raise ProjectFileError(f"the graph's blocks are inconsistent: {problem}")
        graph.set_block(block)
