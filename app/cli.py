"""The headless command line: every command works on a saved project file.

Only argparse and the domain are imported up front; TensorFlow is imported by the commands that
compile (so ``layerloom --help`` stays fast). User errors print one line and exit non-zero; a
traceback is shown only with ``--debug`` and is always written to the log file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from nodes.errors import LayerloomError
from nodes.spec import format_shape

EXIT_OK, EXIT_USER_ERROR, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 1, 3


class Command(NamedTuple):
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def log_path() -> Path:
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "layerloom" / "layerloom.log"


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def fmt_shape(shape: list | None) -> str:
    return "-" if shape is None else format_shape(shape)


def model_name(path: Path) -> str:
    return re.sub(r"\W+", "_", path.stem).strip("_") or "model"


# --- commands -------------------------------------------------------------------------------------


def _new_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="path of the .loom file to create")
    p.add_argument("--template", "-t", help="starter template (see `layerloom templates`)")
    p.add_argument("--force", action="store_true", help="replace an existing file")


def cmd_new(args: argparse.Namespace) -> int:
    from app.workbench import analyse, create_project

    with create_project(args.project, args.template, overwrite=args.force) as opened:
        report = analyse(opened.graph, opened.registry)
    what = f"from template {args.template!r}" if args.template else "(empty graph)"
    print(
        f"created {args.project} {what}: {len(report.nodes)} nodes, {report.total_params:,} params"
    )
    return EXIT_OK


def _info_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_info(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from app.workbench import analyse, open_project

    with open_project(args.project) as opened:
        report = analyse(opened.graph, opened.registry)
        version = opened.version_id
    if args.json:
        emit_json({"project": str(args.project), "graph_version": version, **asdict(report)})
        return EXIT_OK
    rows = [("name", "type", "output shape", "params", "inputs")]
    for n in report.nodes:
        count = "-" if n.param_count is None else f"{n.param_count:,}"
        rows.append(
            (n.name, n.type.rsplit(".", 1)[-1], fmt_shape(n.shape), count, ", ".join(n.inputs))
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"{args.project}  (graph version {version})")
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\n{len(report.nodes)} nodes, {len(report.edges)} edges, {report.total_params:,} params")
    print(f"outputs: {', '.join(report.outputs) or '-'}")
    _print_problems(report.problems)
    return EXIT_OK


def _print_problems(problems: list[dict[str, Any]]) -> None:
    if not problems:
        print("no problems")
        return
    print(f"{len(problems)} problem(s):")
    for problem in problems:
        print(f"  - {problem['message']}")


def _validate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true")


def cmd_validate(args: argparse.Namespace) -> int:
    from app.workbench import analyse, open_project

    with open_project(args.project) as opened:
        report = analyse(opened.graph, opened.registry)
    if args.json:
        emit_json({"valid": report.valid, "problems": report.problems})
    elif report.valid:
        print(f"{args.project}: valid ({len(report.nodes)} nodes, {report.total_params:,} params)")
    else:
        print(f"{args.project}: invalid")
        _print_problems(report.problems)
    return EXIT_OK if report.valid else EXIT_INVALID


def _summary_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)


def cmd_summary(args: argparse.Namespace) -> int:
    from app.workbench import open_project

    with open_project(args.project) as opened:
        graph, registry = opened.graph, opened.registry
    print("compiling with Keras (loading TensorFlow)...", file=sys.stderr, flush=True)
    from app.workbench import keras_summary

    text, count = keras_summary(graph, registry, model_name(args.project))
    print(text.rstrip())
    print(f"Keras parameter count: {count:,}")
    return EXIT_OK


def _templates_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def cmd_templates(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from nodes.templates import list_templates

    infos = list_templates()
    if args.json:
        emit_json([asdict(i) for i in infos])
        return EXIT_OK
    width = max(len(i.name) for i in infos)
    for info in infos:
        print(f"{info.name.ljust(width)}  {info.description}")
    return EXIT_OK


def _layers_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")
    p.add_argument("search", nargs="?", help="only types whose name contains this text")


def cmd_layers(args: argparse.Namespace) -> int:
    from nodes.registry import default_registry

    registry = default_registry()
    specs = registry.search(args.search) if args.search else list(registry)
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


def _gui_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, nargs="?", help="a .loom file to open")


def cmd_gui(args: argparse.Namespace) -> int:
    # The desktop app runs as its own program: the CLI stays free of Qt (an import-linter contract),
    # and the window process starts without argparse's or the CLI's state.
    argv = [sys.executable, "-m", "app.gui"] + ([str(args.project)] if args.project else [])
    os.execv(sys.executable, argv)
    return EXIT_OK  # not reached


COMMANDS: dict[str, Command] = {
    "gui": Command("open the desktop editor (optionally with a project)", _gui_args, cmd_gui),
    "new": Command("create a project file (empty, or from a starter template)", _new_args, cmd_new),
    "info": Command(
        "list nodes, edges, shapes, parameter counts and problems", _info_args, cmd_info
    ),
    "validate": Command(
        "check the graph; exit 1 and list every problem when it is invalid",
        _validate_args,
        cmd_validate,
    ),
    "summary": Command(
        "compile with Keras and print Keras' own model summary", _summary_args, cmd_summary
    ),
    "templates": Command(
        "list the starter templates: name, then description", _templates_args, cmd_templates
    ),
    "layers": Command("list the registered node types by category", _layers_args, cmd_layers),
}


# --- entry point ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerloom",
        description="Build neural networks as node graphs, train them and deploy them.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--version", action="version", version="%(prog)s 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        cmd.configure(sub.add_parser(name, help=cmd.help, description=cmd.help))
    return parser


def _log_exception() -> Path | None:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    logger = logging.getLogger("layerloom")
    logger.addHandler(handler)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.exception("command failed: %s", " ".join(sys.argv))
    handler.close()
    logger.removeHandler(handler)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return COMMANDS[args.command].run(args)
    except LayerloomError as error:
        _log_exception()
        if args.debug:
            raise
        print(f"layerloom: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("layerloom: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`layerloom layers | head`); that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:
        where = _log_exception()
        if args.debug:
            raise
        print(f"layerloom: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print(f"  details were written to {where}; rerun with --debug to see them", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
