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


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--csv", type=Path, metavar="FILE", help="CSV/TSV file with a header row")
    source.add_argument("--images", type=Path, metavar="DIR", help="folder: a sub-folder per class")
    source.add_argument("--npz", type=Path, metavar="FILE", help="NumPy .npz of named arrays")
    source.add_argument(
        "--sample", metavar="NAME", help="built-in sample (a wrong name lists them)"
    )
    p.add_argument("--target", metavar="COL", help="csv: the column to predict")
    p.add_argument("--features", metavar="A,B", help="csv: feature columns (default: all others)")
    p.add_argument("--categorical", metavar="A,B", help="csv: columns to one-hot even if numeric")
    p.add_argument("--delimiter", help="csv: field separator (default: tab for .tsv, else comma)")
    p.add_argument("--x", metavar="NAME", help="npz: the input array (default x)")
    p.add_argument("--y", metavar="NAME", help="npz: the target array (default y)")
    p.add_argument("--task", choices=("classification", "regression", "reconstruction"))
    p.add_argument("--validation", type=float, metavar="RATIO", help="default 0.2")
    p.add_argument("--test", type=float, metavar="RATIO", help="default 0.1")
    p.add_argument("--seed", type=int, help="split seed (default 42)")
    p.add_argument("--split-column", metavar="COL", help="csv: train/validation/test per row")
    p.add_argument("--rows", type=int, default=5, help="rows to preview (default 5)")
    p.add_argument("--json", action="store_true")


def cmd_data(args: argparse.Namespace) -> int:
    from app.workbench import open_project
    from nodes.compile import build_plan
    from nodes.datasets import (
        DatasetError,
        dataset_spec_for,
        open_source,
        spec_from_options,
        store_dataset_spec,
        stored_dataset_spec,
    )

    names = ("csv", "images", "npz", "sample", "target", "features", "categorical", "delimiter")
    names += ("x", "y", "task", "validation", "test", "seed", "split_column")
    with open_project(args.project) as opened:
        stored = stored_dataset_spec(opened)
        try:
            current = dataset_spec_for(opened)  # stored (absolute paths) or the template's sample
        except DatasetError:
            current = None
        spec = spec_from_options({n: getattr(args, n) for n in names}, current)
        if spec is None and current is None:
            raise DatasetError(
                f"{args.project} has no dataset; give --csv, --images, --npz or --sample"
            )
        source = open_source(spec or current)
        # Check before writing: bad data leaves the project file as it was.
        info = source.check(build_plan(opened.graph, opened.registry, model_name(args.project)))
        preview, fingerprint = source.preview(args.rows), source.fingerprint()
        if spec is not None:
            stored = store_dataset_spec(opened, spec)
    shown = stored or current
    if args.json:
        emit_json(
            {"dataset": shown, "default": stored is None, "info": info.to_json()}
            | {"preview": preview.to_json(), "fingerprint": fingerprint}
        )
        return EXIT_OK
    title = (
        "dataset set" if spec else "dataset (the template's sample)" if not stored else "dataset"
    )
    print(f"{title}: {json.dumps(shown)}")
    print("\n".join(preview.lines()))
    print(f"fits the model: {info.summary()}")
    print(f"fingerprint: {fingerprint[:16]}")
    return EXIT_OK


def _gui_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, nargs="?", help="a .loom file to open")


def cmd_gui(args: argparse.Namespace) -> int:
    # The desktop app runs as its own program: the CLI stays free of Qt (an import-linter contract),
    # and the window process starts without argparse's or the CLI's state.
    argv = [sys.executable, "-m", "app.gui"] + ([str(args.project)] if args.project else [])
    os.execv(sys.executable, argv)
    return EXIT_OK  # not reached


# --- training: train, runs, evaluate, worker ------------------------------------------------------


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "--epochs", type=int, help="total epochs (a resumed run counts its earlier ones)"
    )
    p.add_argument("--batch-size", type=int, help="samples per step")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument(
        "--resume", type=int, metavar="RUN", help="continue RUN from its last checkpoint"
    )
    p.add_argument("--json", action="store_true", help="the worker's events as JSON Lines")


def _fmt_metrics(metrics: dict[str, Any]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, (int, float)))


def _fmt_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _ProgressLine:
    """Epoch/step/ETA/metrics on one terminal line (redrawn with \\r); a line per epoch."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.started: dict[str, Any] = {}

    def show(self, event: dict[str, Any]) -> None:
        kind, started = event["type"], self.started
        if kind == "started":
            self.started = event
            self._line(
                f"training on {', '.join(event['devices'])}: {event['params']:,} params, "
                f"{event['samples'].get('train', 0)} samples, {event['steps_per_epoch']} steps/epoch"
            )
        elif kind == "batch" and self.live and started:
            spe, epochs = started["steps_per_epoch"], started["epochs"]
            left = (epochs - event["epoch"]) * spe + spe - event["step"]
            rate = event["samples_per_second"] or 1.0
            eta = _fmt_seconds(left * started["batch_size"] / rate)
            bar = "#" * (20 * event["step"] // spe)
            text = (
                f"epoch {event['epoch']}/{epochs} [{bar:<20}] {event['step']}/{spe} ETA {eta} "
                f"{_fmt_metrics(event['metrics'])}"
            )
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        elif kind == "epoch":
            epochs = started.get("epochs", "?")
            self._line(
                f"epoch {event['epoch']}/{epochs}: {_fmt_metrics(event['metrics'])}  "
                f"({event.get('seconds', 0):.1f} s)"
            )
        elif kind == "log":
            self._line(f"{event['level']}: {event['message']}")

    def _line(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.live else "") + text + "\n")
        self.stream.flush()


def cmd_train(args: argparse.Namespace) -> int:
    import signal
    import time

    from app.workbench import open_project
    from app.workbench.training import start_run
    from backends.protocol import serialise

    asked = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr}
    interrupts = []
    with open_project(args.project) as opened:
        session = start_run(opened, {k: v for k, v in asked.items() if v is not None}, args.resume)
        progress = _ProgressLine(sys.stderr)
        if not args.json:
            print("starting the worker (loading TensorFlow)...", file=sys.stderr, flush=True)
        # Ctrl-C must not interrupt a write to the project: the handler only takes note, and the
        # loop asks the worker to stop (a second Ctrl-C kills it).
        previous = signal.signal(signal.SIGINT, lambda *_: interrupts.append(1))
        try:
            handled = 0
            while not session.done:
                if len(interrupts) > handled:
                    handled = len(interrupts)
                    (session.cancel if handled == 1 else session.process.kill)()
                    if not args.json:
                        print("\nstopping after the current batch...", file=sys.stderr)
                events = session.poll()
                for event in events:
                    if args.json:
                        print(serialise({**event, "run_id": session.run_id}), flush=True)
                    else:
                        progress.show(event)
                if not events:
                    time.sleep(0.05)
        finally:
            signal.signal(signal.SIGINT, previous)
            session.close()
        status, error, run_id = session.status, session.error, session.run_id
    if status == "failed":
        raise LayerloomError(f"training failed (run {run_id}): {error}")
    if status == "cancelled":
        print(f"run {run_id} cancelled; continue it with --resume {run_id}", file=sys.stderr)
        return 130
    if not args.json:
        print(f"run {run_id} finished: {_fmt_metrics(session.last_event.get('metrics', {}))}")
    return EXIT_OK


def _runs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true")


def cmd_runs(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from app.workbench import open_project
    from app.workbench.training import runs

    with open_project(args.project) as opened:
        found = runs(opened)
    if args.json:
        emit_json([asdict(run) for run in found])
        return EXIT_OK
    if not found:
        print(f"{args.project}: no runs yet (start one with `layerloom train`)")
    for run in found:
        took = "-" if run.duration is None else _fmt_seconds(run.duration)
        origin = f" (resumes run {run.resumed_from})" if run.resumed_from else ""
        print(
            f"run {run.id}  {run.status:<9}  graph v{run.graph_version_id}  {run.epochs} epochs  "
            f"{took}{origin}"
        )
        if run.final_metrics:
            print(f"    final: {_fmt_metrics(run.final_metrics)}")
        if run.best_epoch:
            print(f"    best (epoch {run.best_epoch}): {_fmt_metrics(run.best_metrics)}")
        if run.error:
            print(f"    error: {run.error}")
    return EXIT_OK


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--run", type=int, help="the run to evaluate (default: the latest)")
    p.add_argument("--split", choices=("validation", "test", "train"), default="validation")
    p.add_argument("--json", action="store_true")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from app.workbench import open_project
    from app.workbench.training import evaluate

    print("evaluating in a worker (loading TensorFlow)...", file=sys.stderr, flush=True)
    with open_project(args.project) as opened:
        result = evaluate(opened, args.run, args.split)
    if args.json:
        emit_json(asdict(result))
        return EXIT_OK
    where = f"run {result.run_id}, {result.checkpoint['kind']} checkpoint (epoch"
    print(f"{where} {result.checkpoint['epoch']}), {result.split}: {result.samples} samples")
    if result.task != "classification":
        print(f"MAE {result.mae:.4f}  RMSE {result.rmse:.4f}  R² {result.r2:.4f}")
        return EXIT_OK
    print(f"accuracy {result.accuracy:.4f}")
    width = max(5, *(len(c) for c in result.classes))
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + " " + " ".join(c[:6].rjust(6) for c in result.classes))
    for name, row in zip(result.classes, result.confusion_matrix, strict=True):
        print(name.rjust(width) + " " + " ".join(str(n).rjust(6) for n in row))
    print(f"{'class'.rjust(width)} precision recall     f1 support")
    for item in result.per_class:
        print(
            f"{item['class'].rjust(width)} {item['precision']:9.3f} {item['recall']:6.3f} "
            f"{item['f1']:6.3f} {item['support']:7d}"
        )
    return EXIT_OK


def _worker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", type=Path, help="the job file a training backend wrote")


def cmd_worker(args: argparse.Namespace) -> int:
    from backends.worker import main as worker_main

    return worker_main(str(args.job))


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
    "data": Command(
        "set or show the dataset: CSV, image folder, .npz or a sample", _data_args, cmd_data
    ),
    "train": Command("train the model in a worker; Ctrl-C stops cleanly", _train_args, cmd_train),
    "runs": Command("list the project's runs with their status and metrics", _runs_args, cmd_runs),
    "evaluate": Command(
        "accuracy, confusion matrix or regression errors of a run's best checkpoint",
        _evaluate_args,
        cmd_evaluate,
    ),
    "worker": Command(
        "(internal) run one job file for a training backend", _worker_args, cmd_worker
    ),
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
