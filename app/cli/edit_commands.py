"""Editing commands: ``layerloom edit P.loom ACTION ...`` (the graph) and ``layerloom settings``
(the training settings). The work is in ``app.workbench.editing`` and ``training_settings``;
here are only the flags and the printing. A refused change exits 2 (UsageError) and leaves the
project file's bytes as they were."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_OK, emit_json, params_text, print_problems
from layerloom.nodes.wording import plural


class _Intermixed(argparse.ArgumentParser):
    """Takes positionals after options too (``add Dense --after flatten units=8``): argparse
    fills a positional list only once, before the first option, without this."""

    _inner = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        if self._inner:  # parse_known_intermixed_args calls this one again for its two passes
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def edit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    actions = p.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Intermixed
    )

    def action(name: str, text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=text, description=text)
        sub.add_argument("--json", action="store_true", help="the change and the problems as JSON")
        return sub

    add = action("add", "add a node: unconnected, after a node or between two")
    add.add_argument("type", help="node type: short name (Dense) or full id (keras.layers.Dense)")
    add.add_argument("assignments", nargs="*", metavar="PARAM=VALUE", help="parameters to set")
    add.add_argument("--name", help="the new node's name (default: from its type, unique)")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--after", metavar="NODE", help="take over NODE's outgoing wires")
    where.add_argument(
        "--between", nargs=2, metavar=("A", "B"), help="replace the wire from A to B"
    )
    remove = action("remove", "remove nodes and their wires")
    remove.add_argument("nodes", nargs="+", metavar="NODE")
    remove.add_argument(
        "--reconnect", action="store_true", help="wire the node's one input to what it fed"
    )
    connect = action("connect", "wire A's output to an input of B")
    connect.add_argument("src", metavar="A")
    connect.add_argument("dst", metavar="B")
    connect.add_argument(
        "--port", help="B's input (default: its first free one); a taken one is replaced"
    )
    disconnect = action("disconnect", "remove the wire from A to B")
    disconnect.add_argument("src", metavar="A")
    disconnect.add_argument("dst", metavar="B")
    disconnect.add_argument("--port", help="B's input, when A feeds several")
    rename = action("rename", "rename a node")
    rename.add_argument("old", metavar="OLD")
    rename.add_argument("new", metavar="NEW")
    set_ = action("set", "set node parameters, several at once")
    set_.add_argument("assignments", nargs="+", metavar="NODE.PARAM=VALUE")
    group = action("group", "group nodes into a named block (one card in the editor)")
    group.add_argument("block", metavar="NAME")
    group.add_argument("nodes", nargs="+", metavar="NODE")
    ungroup = action("ungroup", "dissolve a block; its nodes stay")
    ungroup.add_argument("block", metavar="NAME")
    freeze = action("freeze", "freeze nodes: training leaves their weights as they are")
    freeze.add_argument("nodes", nargs="*", metavar="NODE")
    freeze.add_argument(
        "--all-but", nargs="+", default=[], metavar="NODE", help="freeze every node but these"
    )
    unfreeze = action("unfreeze", "make frozen nodes trainable again")
    unfreeze.add_argument("nodes", nargs="*", metavar="NODE")
    unfreeze.add_argument("--all", action="store_true", help="every frozen node")


def _planner(args: argparse.Namespace) -> Any:
    from layerloom.app.workbench import blocks, editing, freezing

    planners = {
        "add": lambda: editing.plan_add(
            args.type,
            args.name,
            args.after,
            tuple(args.between) if args.between else None,
            args.assignments,
        ),
        "remove": lambda: editing.plan_remove(args.nodes, args.reconnect),
        "connect": lambda: editing.plan_connect(args.src, args.dst, args.port),
        "disconnect": lambda: editing.plan_disconnect(args.src, args.dst, args.port),
        "rename": lambda: editing.plan_rename(args.old, args.new),
        "set": lambda: editing.plan_set(args.assignments),
        "group": lambda: blocks.plan_group(args.block, args.nodes),
        "ungroup": lambda: blocks.plan_ungroup(args.block),
        "freeze": lambda: freezing.plan_freeze(args.nodes, args.all_but),
        "unfreeze": lambda: freezing.plan_unfreeze(args.nodes, args.all),
    }
    return planners[args.action]()


def cmd_edit(args: argparse.Namespace) -> int:
    from layerloom.app.workbench.editing import edit_project

    outcome = edit_project(args.project, _planner(args))
    report = outcome.report
    if args.json:
        emit_json(
            {
                "changed": outcome.changed,
                "changes": outcome.changes,
                "graph_version": outcome.version_id,
                "message": outcome.message,
                "total_params": report.total_params,
                "trainable_params": report.trainable_params,
                "frozen_params": report.frozen_params,
                "problems": report.problems,
            }
        )
        return EXIT_OK
    for line in outcome.changes:
        print(line)
    if outcome.changed:
        print(
            f"saved graph version {outcome.version_id}: {plural(len(report.nodes), 'node')},"
            f" {params_text(report)}"
        )
    else:
        print(f"nothing changed (graph version {outcome.version_id})")
    print_problems(report.problems)
    return EXIT_OK


def settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("pairs", nargs="*", metavar="KEY=VALUE", help="settings to change")
    p.add_argument(
        "--reset", nargs="+", default=[], metavar="KEY", help="put these back to their defaults"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_settings(args: argparse.Namespace) -> int:
    from layerloom.app.workbench.training_settings import change_settings, show_settings

    if not args.pairs and not args.reset:
        rows = show_settings(args.project)
        if args.json:
            emit_json([row.to_json() for row in rows])
            return EXIT_OK
        _print_rows(rows)
        return EXIT_OK
    changes = change_settings(args.project, args.pairs, args.reset)
    if args.json:
        emit_json({"changes": [{"name": c.name, "old": c.old, "new": c.new} for c in changes]})
        return EXIT_OK
    from layerloom.nodes.param_text import format_value

    for change in changes:
        print(f"{change.name}: {format_value(change.old)} -> {format_value(change.new)}")
    print("saved" if changes else "nothing changed")
    return EXIT_OK


def _print_rows(rows: list[Any]) -> None:
    from layerloom.nodes.param_text import format_value

    table = []
    for row in rows:
        marker = "(default)" if row.is_default else f"(default {format_value(row.default)})"
        where = f" [{row.where}]" if row.where != "training" else ""
        table.append((row.name, format_value(row.value), marker, row.help + where))
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    for name, value, marker, text in table:
        print(
            f"{name.ljust(widths[0])}  {value.ljust(widths[1])}  {marker.ljust(widths[2])}  {text}"
        )
