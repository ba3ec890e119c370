"""``layerloom predict``: ask a trained run about new files (images, CSV rows, .npz arrays)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from layerloom.app.cli.common import EXIT_OK, starting_tensorflow


def predict_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files or folders (read recursively), CSV files (one prediction per row) or"
        " .npz files (array x, or one per Input name)",
    )
    p.add_argument(
        "--run", type=int, help="the run to ask (default: the best finished run of the graph)"
    )
    p.add_argument(
        "--top", type=int, default=1, metavar="K", help="classifiers: the K most probable classes"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per input, a line each")


def _format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value)


def cmd_predict(args: argparse.Namespace) -> int:
    starting_tensorflow(args)
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.predicting import predict

    # Predicting records nothing: the project is only read, its bytes stay as they were.
    with open_project(args.project, readonly=True) as opened:
        result = predict(opened, args.inputs, run_id=args.run, top=args.top)
    for warning in result.warnings:
        print(f"layerloom: warning: {warning}", file=sys.stderr)
    if args.json:
        for row in result.rows:
            sys.stdout.write(json.dumps({**row, "run": result.run_id}, ensure_ascii=False) + "\n")
        return EXIT_OK
    print(f"using {result.reason}", file=sys.stderr)
    width = min(60, max(len(row["input"]) for row in result.rows))
    for row in result.rows:
        if "value" in row:
            answer = _format_value(row["value"])
        else:
            answer = "  ".join(f"{c['label']} {c['probability']:.4f}" for c in row["top"])
        print(f"{row['input'].ljust(width)}  {answer}")
    return EXIT_OK
