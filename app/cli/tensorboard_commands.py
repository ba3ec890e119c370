"""``layerloom tensorboard``: a project's runs as TensorBoard logs (scalars per epoch, the graph)."""

from __future__ import annotations

import argparse
from pathlib import Path

from layerloom.app.cli.common import EXIT_OK, starting_tensorflow


def tensorboard_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--run", type=int, help="only this run (default: every run)")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        required=True,
        help="the log folder: one run-N sub-folder per run (replaced if there)",
    )


def cmd_tensorboard(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.tensorboard import prepare, write_prepared

    with open_project(args.project, readonly=True) as opened:  # only read: the file is unchanged
        prepared = prepare(opened, args.output, args.run)
    starting_tensorflow(args)
    logs = write_prepared(prepared)
    for run in logs.runs:
        model = "graph and config" if run.model == "graph" else "config (no graph under JAX)"
        print(f"run #{run.run_id}: {run.scalars} scalars, {model} -> {run.folder}")
    print(f"view them with: tensorboard --logdir {logs.folder}")
    return EXIT_OK
