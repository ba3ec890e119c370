"""Project commands: new, info, validate, summary, templates, layers and gui."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    emit_json,
    fmt_shape,
    model_name,
    params_text,
    print_problems,
    starting_tensorflow,
)
from layerloom.app.cli.data_commands import print_adaptation, source_args, spec_from_args
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.wording import plural


def new_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="path of the .loom file to create")
    p.add_argument("--template", "-t", help="starter template (see `layerloom templates`)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    # With data: the graph (the template's, or one chosen for the data) is fitted to it.
    source_args(p)


def cmd_new(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import analyse, create_project

    spec = spec_from_args(args, None)
    if spec is not None:
        return _new_for_data(args, spec)
    with create_project(args.project, args.template, overwrite=args.force) as opened:
        report = analyse(opened.graph, opened.registry)
    what = f"from template {args.template!r}" if args.template else "(empty graph)"
    print(
        f"created {args.project} {what}: {plural(len(report.nodes), 'node')}, {report.total_params:,} params"
    )
    return EXIT_OK


def _new_for_data(args: argparse.Namespace, spec: dict[str, Any]) -> int:
    from layerloom.app.workbench import analyse
    from layerloom.app.workbench.adapting import create_for_data
    from layerloom.nodes.adapt import scale_warnings
    from layerloom.nodes.datasets import open_source

    created = create_for_data(args.project, spec, args.template, overwrite=args.force)
    opened, adaptation, template, why = created
    with opened:
        report = analyse(opened.graph, opened.registry)
        warnings = scale_warnings(opened.graph, opened.registry, open_source(adaptation.spec))
    if why:
        print(f"template: {template} ({why}; choose another with --template)")
    print_adaptation(adaptation)
    print(
        f"created {args.project} from template {template!r}, fitted to {adaptation.facts.name}:"
        f" {plural(len(report.nodes), 'node')}, {report.total_params:,} params"
    )
    print(f"dataset: {adaptation.info.summary()}")
    for line in warnings:
        print(line, file=sys.stderr)
    return EXIT_OK


def info_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_info(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from layerloom.app.workbench import analyse, open_project

    with open_project(args.project, readonly=True) as opened:
        report = analyse(opened.graph, opened.registry)
        version = opened.version_id
    if args.json:
        emit_json({"project": str(args.project), "graph_version": version, **asdict(report)})
        return EXIT_OK
    rows = [("name", "type", "output shape", "params", "inputs")]
    for n in report.nodes:
        count = "-" if n.param_count is None else f"{n.param_count:,}"
        count += "" if n.trainable else " (frozen)"
        rows.append(
            (n.name, n.type.rsplit(".", 1)[-1], fmt_shape(n.shape), count, ", ".join(n.inputs))
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"{args.project}  (graph version {version})")
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(
        f"\n{plural(len(report.nodes), 'node')}, {plural(len(report.edges), 'edge')}, {params_text(report)}"
    )
    print(f"outputs: {', '.join(report.outputs) or '-'}")
    print_problems(report.problems)
    return EXIT_OK


def validate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true")


def cmd_validate(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import analyse, open_project

    with open_project(args.project, readonly=True) as opened:
        report = analyse(opened.graph, opened.registry)
    if args.json:
        emit_json({"valid": report.valid, "problems": report.problems})
    elif report.valid:
        print(
            f"{args.project}: valid ({plural(len(report.nodes), 'node')}, {report.total_params:,} params)"
        )
    else:
        print(f"{args.project}: invalid")
        print_problems(report.problems)
    return EXIT_OK if report.valid else EXIT_INVALID


def summary_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)


def cmd_summary(args: argparse.Namespace) -> int:
    starting_tensorflow(args)
    from layerloom.app.workbench import keras_summary, open_project

    with open_project(args.project, readonly=True) as opened:
        graph, registry = opened.graph, opened.registry

    text, count = keras_summary(graph, registry, model_name(args.project))
    print(text.rstrip())
    print(f"Keras parameter count: {count:,}")
    return EXIT_OK


def templates_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")
    actions = p.add_subparsers(dest="templates_action", metavar="ACTION")
    save = actions.add_parser("save", help="save a project's graph or block as a user template")
    save.add_argument("project", type=Path)
    save.add_argument("name", metavar="NAME")
    save.add_argument("--block", metavar="BLOCK", help="only this block of the graph")
    save.add_argument("--description", help="one line shown by `layerloom templates`")
    save.add_argument("--force", action="store_true", help="replace a user template of that name")


def cmd_templates(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from layerloom.nodes.templates import list_templates

    if args.templates_action == "save":
        return _save_template(args)
    infos = list_templates()
    if args.json:
        emit_json([asdict(i) for i in infos])
        return EXIT_OK
    width = max(len(i.name) for i in infos)
    for info in infos:
        mine = "  (yours)" if info.user else ""
        print(f"{info.name.ljust(width)}  {info.description}{mine}")
    return EXIT_OK


def _save_template(args: argparse.Namespace) -> int:
    from layerloom.app.workbench.blocks import save_template

    path = save_template(
        args.project,
        args.name,
        block=args.block,
        description=args.description,
        overwrite=args.force,
    )
    if args.json:
        emit_json({"name": args.name, "path": str(path)})
    else:
        print(f"saved template {args.name!r} to {path}; use it with layerloom new --template")
    return EXIT_OK


def layers_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")
    p.add_argument("search", nargs="?", help="only types whose name contains this text")


def cmd_layers(args: argparse.Namespace) -> int:
    from layerloom.nodes.registry import default_registry

    registry = default_registry()
    specs = registry.search(args.search) if args.search else list(registry)
    if args.search and not specs:
        raise LayerloomError(
            f"no node type matches {args.search!r}; run `layerloom layers` for all"
        )
    if args.json:
        emit_json([s.describe() for s in specs])
        return EXIT_OK
    by_category: dict[str, list] = {}
    for spec in specs:
        by_category.setdefault(spec.category, []).append(spec)
    for category, members in by_category.items():
        print(f"{category}:")
        width = max(len(s.label) for s in members)
        for spec in members:
            print(f"  {spec.label.ljust(width)}  {spec.doc}")
    return EXIT_OK


def gui_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, nargs="?", help="a .loom file to open")


def cmd_gui(args: argparse.Namespace) -> int:
    # The desktop app runs as its own program: the CLI stays free of Qt (an import-linter contract),
    # and the window process starts without argparse's or the CLI's state.
    argv = [sys.executable, "-m", "layerloom.app.gui"] + (
        [str(args.project)] if args.project else []
    )
    os.execv(sys.executable, argv)
    return EXIT_OK  # not reached
