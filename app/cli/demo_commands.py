"""``layerloom demo``: a sample project created, trained, evaluated and exported to every target.

The newcomer's first command: it shows each step as the real commands do (the same progress line as
``train``, the same export worker as ``export``) and ends with where everything went, so the next
step is opening the project in the editor or taking an artifact to a device.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_OK, EXIT_USER_ERROR, starting_tensorflow
from layerloom.nodes.wording import plural


def demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "folder",
        type=Path,
        nargs="?",
        default=Path("layerloom-demo"),
        metavar="DIR",
        help="where the sample project and its exports go (default: ./layerloom-demo)",
    )
    p.add_argument("--force", action="store_true", help="use DIR even when it is not empty")
    # For tests and the impatient: fewer epochs, fewer targets. Not in --help's list.
    p.add_argument("--epochs", type=int, help=argparse.SUPPRESS)
    p.add_argument("--targets", help=argparse.SUPPRESS)


def cmd_demo(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.demo import (
        DEMO_EPOCHS,
        DEMO_TEMPLATE,
        EXPORTS_FOLDER,
        create_demo_project,
        demo_folder,
        demo_targets,
    )
    from layerloom.nodes.errors import UsageError

    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, not {args.epochs}")
    started = time.monotonic()
    targets = demo_targets(args.targets.split(",") if args.targets else None)
    folder = demo_folder(args.folder, force=args.force)
    epochs = args.epochs or DEMO_EPOCHS
    project = create_demo_project(folder, epochs)
    print(f"1/4 created {project} from the template {DEMO_TEMPLATE!r} with its sample data")
    starting_tensorflow(args)
    print(f"2/4 training {plural(epochs, 'epoch')}", flush=True)
    status = _train(project, epochs)
    if status != EXIT_OK:
        return status
    with open_project(project) as opened:
        print("3/4 evaluating on the validation split", flush=True)
        _evaluate(opened)
        count = f"{len(targets)} target" + ("s" if len(targets) != 1 else "")
        print(f"4/4 exporting to {count}, each checked in its own runtime")
        rows = [_export(opened, item, folder / EXPORTS_FOLDER / item.target) for item in targets]
    _print_table(rows)
    _print_where(project, folder, rows, time.monotonic() - started)
    failed = [row for row in rows if row["status"] not in ("passed", "skipped")]
    return EXIT_USER_ERROR if failed else EXIT_OK


def _train(project: Path, epochs: int) -> int:
    from layerloom.app.cli.training_commands import _follow
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.training import start_run

    with open_project(project) as opened:
        session = start_run(opened, {"epochs": epochs})
        follow = argparse.Namespace(json=False, project=project)
        return _follow(session, follow, detach_on_interrupt=False)


def _evaluate(opened: Any) -> None:
    from layerloom.app.workbench.evaluating import evaluate

    result = evaluate(opened, None, "validation")
    if result.task == "classification":
        print(f"    accuracy {result.accuracy:.1%} on {result.samples} held-out samples")
    else:
        print(f"    MAE {result.mae:.4f}  RMSE {result.rmse:.4f} on {result.samples} samples")


def _export(opened: Any, item: Any, out_dir: Path) -> dict[str, Any]:
    from layerloom.app.cli.export_commands import _run
    from layerloom.app.workbench.export_targets import ExportError
    from layerloom.app.workbench.exporting import prepare_export, start_export

    row: dict[str, Any] = {"target": item.target, "title": item.title, "path": str(out_dir)}
    if item.unavailable:
        print(f"    {item.target}: skipped ({item.unavailable})", flush=True)
        return {**row, "status": "skipped", "figure": item.unavailable, "seconds": 0.0}
    try:
        prepared = prepare_export(opened, item.target, out_dir, overwrite=True)
    except ExportError as error:
        print(f"    {item.target}: refused ({error})", flush=True)
        return {**row, "status": "refused", "figure": str(error), "seconds": 0.0}
    session = start_export(prepared)
    try:
        outcome = _run(session, quiet=False)
    finally:
        session.close()
    figure = outcome.error or _parity_figure(outcome.parity)
    print(f"    {item.target}: {outcome.status} ({outcome.seconds:.0f} s)", flush=True)
    return {**row, "status": outcome.status, "figure": figure, "seconds": outcome.seconds}


def _parity_figure(parity: dict[str, Any]) -> str:
    error = parity.get("max_abs_error")
    figure = f"max abs error {error:.2g}" if isinstance(error, float) else "-"
    agreement = parity.get("top1_agreement")
    if isinstance(agreement, float):
        figure += f", top-1 agreement {agreement:.0%}"
    return figure


def _print_table(rows: list[dict[str, Any]]) -> None:
    print("\nparity of each export against the trained Keras model:")
    head = ("target", "status", "parity", "seconds")
    cells = [head] + [
        (r["target"], r["status"], r["figure"], f"{r['seconds']:.0f}" if r["seconds"] else "-")
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    for cell in cells:
        line = "  ".join(cell[i].ljust(widths[i]) for i in range(3))
        print(f"  {line}  {cell[3].rjust(7)}")


def _print_where(project: Path, folder: Path, rows: list[dict[str, Any]], took: float) -> None:
    print(f"\ndone in {took / 60:.1f} min; everything is in {folder.resolve()}:")
    places = [(str(project), "the project: graph, run, metrics, checkpoints, exports")]
    places += [(row["path"], row["title"]) for row in rows if row["status"] != "skipped"]
    width = max(len(path) for path, _ in places)
    for path, what in places:
        print(f"  {path.ljust(width)}  {what}")
    print("next:")
    print(f"  layerloom gui {project}            open it in the editor (Run ▸ Train is F5)")
    print(f"  layerloom runs {project}           the run and its metrics")
    print(f"  layerloom exports {project}        every export and its parity")
