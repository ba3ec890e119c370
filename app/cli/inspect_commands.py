"""Look-inside commands: inspect (every node's output on a sample) and explain (why that answer)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_OK, emit_json, fmt_shape, starting_tensorflow


def inspect_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("input", help="an image, a CSV of rows, or an .npz (array x fed as it is)")
    p.add_argument("--run", type=int, help="whose weights (default: the best finished run)")
    p.add_argument("--node", metavar="NAME", help="only this node (as named on the canvas)")
    p.add_argument("--json", action="store_true", help="the statistics per node as JSON")
    p.add_argument(
        "--maps", type=Path, metavar="DIR", help="write each picture-shaped output's maps as PNG"
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def cmd_inspect(args: argparse.Namespace) -> int:
    starting_tensorflow(args)
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.inspecting import inspect

    with open_project(args.project, readonly=True) as opened:  # inspect records nothing
        found = inspect(opened, [args.input], args.run, args.node, args.maps)
    if args.json:
        emit_json(found.to_json())
        return EXIT_OK
    plural = "s" if found.samples != 1 else ""
    print(f"weights: {found.reason}; {found.samples} example{plural}")
    rows = [("node", "type", "shape", "min", "max", "mean", "std", "zeros", "non-finite")]
    for node in found.nodes:
        rows.append(
            (
                node["node"],
                node["type"].rsplit(".", 1)[-1],
                fmt_shape(node["shape"]),
                *(_number(node[key]) for key in ("min", "max", "mean", "std")),
                f"{node['zero_fraction']:.1%}",
                f"{node['nonfinite_fraction']:.1%}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    written = [node["map_file"] for node in found.nodes if "map_file" in node]
    if args.maps is not None:
        print(f"{len(written)} feature-map grid(s) written to {args.maps}")
    return EXIT_OK


def explain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="images or folders, CSVs, .npz")
    p.add_argument("--run", type=int, help="whose weights (default: the best finished run)")
    p.add_argument(
        "--class",
        dest="class_name",
        metavar="C",
        help="explain this class (name or index) instead of the predicted one",
    )
    p.add_argument(
        "-o", "--output", type=Path, metavar="DIR", help="write NAME.heatmap/overlay.png here"
    )
    p.add_argument("--json", action="store_true", help="one object per input row")


def _prediction(row: dict[str, Any]) -> str:
    value = row["prediction"]
    if isinstance(value, float):
        return f"{value:.4g}"
    return f"'{value}' (score {row['score']:.3g})"


def cmd_explain(args: argparse.Namespace) -> int:
    starting_tensorflow(args)
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.explaining import explain

    with open_project(args.project, readonly=True) as opened:  # explain records nothing
        found = explain(opened, list(args.inputs), args.run, args.class_name, args.output)
    if args.json:
        emit_json(found.to_json())
        return EXIT_OK
    print(f"weights: {found.reason}")
    if found.method == "grad-cam":
        print(f"Grad-CAM over {found.node}")
    else:
        print(f"integrated gradients against the {found.baseline}")
    for row in found.rows:
        other = row.get("explained", row["prediction"])
        about = f"; explaining '{other}'" if other != row["prediction"] else ""
        print(f"{row['input']}: predicted {_prediction(row)}{about}")
        if "attributions" in row:
            top = ", ".join(f"{name} {value:+.4g}" for name, value in found.top_features(row))
            print(f"  top features: {top}")
        else:
            y, x = row["peak"]
            where = f"; {row['heatmap']}, {row['overlay']}" if "heatmap" in row else ""
            print(f"  peak at row {y}, column {x}{where}")
    return EXIT_OK
