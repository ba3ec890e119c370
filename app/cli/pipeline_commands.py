"""``layerloom pipeline``: check new data, train, evaluate, gate, compare, push for TF Serving."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from layerloom.app.cli.common import EXIT_OK, EXIT_USER_ERROR, emit_json

DEFAULT_TOLERANCE = 0.01  # app.workbench.pipeline_figures.DEFAULT_TOLERANCE (imported lazily)


def pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "--data", type=Path, required=True, metavar="F", help="the new data (the dataset's kind)"
    )
    p.add_argument(
        "--push",
        type=Path,
        required=True,
        metavar="DIR",
        help="push a blessed model as DIR/<model>/<next version>/ (TF Serving's layout)",
    )
    p.add_argument(
        "--gate",
        metavar="EXPR",
        help="conditions the test figures must meet: METRIC OP NUMBER joined by 'and'"
        " (e.g. 'accuracy>=0.9 and val_loss<0.5')",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        metavar="X",
        help="how much worse than the pushed model is still accepted: accuracy points"
        f" (absolute) or a relative MAE increase (default {DEFAULT_TOLERANCE})",
    )
    p.add_argument("--slice", metavar="COL", help="also evaluate per value of this CSV column")
    p.add_argument("--remote", metavar="NAME", help="train on a remote host (`layerloom remote`)")
    p.add_argument(
        "--targets",
        nargs="+",
        default=[],
        metavar="TARGET",
        help="export targets pushed with the SavedModel, in the version's assets.extra/",
    )
    p.add_argument("--json", action="store_true", help="print the recorded pipeline run as JSON")


def cmd_pipeline(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.pipeline import PipelineRequest, run_pipeline

    def progress(line: str) -> None:
        if not args.json:
            print(line, file=sys.stderr, flush=True)

    request = PipelineRequest(
        data=args.data,
        push_dir=args.push,
        gate=args.gate,
        tolerance=args.tolerance,
        targets=tuple(args.targets),
        slice_column=args.slice,
        remote=args.remote,
    )
    with open_project(args.project) as opened:
        outcome = run_pipeline(opened, request, progress=progress)
    record = outcome.record
    if args.json:
        emit_json(outcome.to_json())
    elif outcome.unchanged:
        print(outcome.message)
    elif outcome.pushed:
        print(f"pipeline run {record.id}: {outcome.message}")
    else:
        print(
            f"pipeline run {record.id} {record.verdict} at {record.decided_at}, nothing pushed:"
            f" {outcome.message}"
        )
    return EXIT_OK if outcome.unchanged or outcome.pushed else EXIT_USER_ERROR
