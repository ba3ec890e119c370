"""Data quality commands: `stats` (streaming statistics), `schema` (the stored schema: show,
infer, edit) and `check-data` (anomalies of new data against the schema; exit 1 on any)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_INVALID, EXIT_OK, emit_json


def shown(text: str) -> str:
    """A name or value as printed: as typed, or quoted with escapes when it holds control
    characters (a newline in a column name must not break a line of output)."""
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


# -- stats ---------------------------------------------------------------------------------------


def stats_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "--data",
        type=Path,
        metavar="PATH",
        help="a CSV/TSV file or image folder (default: the project's dataset, all rows)",
    )
    p.add_argument(
        "--tfmd",
        type=Path,
        metavar="DIR",
        help="also write stats.pbtxt and schema.pbtxt (TensorFlow Metadata text protos) to DIR",
    )
    p.add_argument("--json", action="store_true")


def cmd_stats(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.data_checks import dataset_statistics, export_tfmd

    written: list[Path] = []
    note = None
    with open_project(args.project, readonly=True) as opened:
        statistics = dataset_statistics(opened, args.data)
        if args.tfmd is not None:
            written, note = export_tfmd(opened, args.tfmd, statistics)
    if note:
        print(note, file=sys.stderr)
    if args.json:
        emit_json(statistics | {"tfmd": [str(p) for p in written]})
        return EXIT_OK
    for line in statistics_lines(statistics):
        print(line)
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def statistics_lines(statistics: dict[str, Any]) -> list[str]:
    name = shown(Path(statistics["path"]).name)
    if statistics["kind"] == "images":
        corrupt = statistics["corrupt"]
        lines = [f"{name}: {statistics['files']} images"]
        lines.append("sizes: " + _shares(statistics["sizes"], statistics["files"]))
        lines.append("modes: " + _shares(statistics["modes"], statistics["files"]))
        lines.append(f"corrupt: {corrupt['count']}")
        lines += [f"  {shown(f)}" for f in corrupt["files"]]
    else:
        target = f" (target {shown(statistics['target'])})" if statistics["target"] else ""
        lines = [f"{name}: {statistics['rows']} rows, {len(statistics['columns'])} columns{target}"]
        ragged = statistics["ragged_rows"]
        if ragged["count"]:
            lines.append(f"ragged rows: {ragged['count']} (rows {ragged['rows']})")
        width = max((len(shown(f["name"])) for f in statistics["features"]), default=4)
        for feature in statistics["features"]:
            lines.append(f"  {shown(feature['name']):<{width}}  {_feature_line(feature)}")
    if statistics.get("class_balance"):
        total = sum(statistics["class_balance"].values())
        lines.append("class balance: " + _shares(statistics["class_balance"], total))
    return lines


def _shares(counts: dict[str, int], total: int) -> str:
    parts = [f"{shown(k)} {n / total:.0%} ({n})" for k, n in list(counts.items())[:10]]
    more = len(counts) - 10
    return ", ".join(parts) + (f", … {more} more" if more > 0 else "")


def _feature_line(feature: dict[str, Any]) -> str:
    head = f"{feature['type']:<11}  {feature['count']} values, {feature['missing']} missing"
    numeric, categorical = feature.get("numeric"), feature.get("categorical")
    if numeric:
        median = numeric["quantiles"]["values"][4]
        head += (
            f"  min {_g(numeric['min'])}  max {_g(numeric['max'])}  mean {_g(numeric['mean'])}"
            f"  std {_g(numeric['std'])}  median {_g(median)}"
        )
        if numeric["non_finite"] or numeric["non_numeric"]:
            head += f"  NaN/inf {numeric['non_finite']}  not numbers {numeric['non_numeric']}"
    elif categorical:
        plus = "" if categorical["distinct_exact"] else "+"
        top = ", ".join(f"{shown(v)} ({n})" for v, n in categorical["top"][:3])
        head += f"  {categorical['distinct']}{plus} distinct: {top}"
    return head


# -- schema --------------------------------------------------------------------------------------


def schema_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "--infer",
        action="store_true",
        help="infer the schema from the project's dataset and store it (replacing edits)",
    )
    p.add_argument(
        "--set",
        nargs="+",
        metavar="COL.KEY=VALUE",
        help="edit the stored schema; KEY: min, max, values (a,b or any), required, missing"
        " (true/false), drift (threshold or off), type (numeric/categorical)",
    )
    p.add_argument("--json", action="store_true")


def cmd_schema(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.data_checks import (
        edit_project_schema,
        infer_project_schema,
        stored_schema,
    )

    writes = args.infer or bool(args.set)
    note = None
    with open_project(args.project, readonly=not writes) as opened:
        if args.infer:
            infer_project_schema(opened)
            note = f"schema inferred and stored in {shown(opened.path.name)}"
        if args.set:
            edit_project_schema(opened, args.set)
            note = (note + "; edited") if note else f"schema edited in {shown(opened.path.name)}"
        schema = stored_schema(opened)
        if schema is None:
            from layerloom.app.workbench.data_checks import infer_project_schema as infer

            schema, _ = infer(opened, store=False)
            note = "no schema is stored: this is the one inferred now (store it with --infer)"
    if note:
        print(note, file=sys.stderr)
    if args.json:
        emit_json(schema)
        return EXIT_OK
    for line in schema_lines(schema):
        print(line)
    return EXIT_OK


def schema_lines(schema: dict[str, Any]) -> list[str]:
    lines = [f"inferred from {shown(schema['inferred_from'])} ({schema['rows']} rows)"]
    width = max((len(shown(f["name"])) for f in schema["features"]), default=4)
    for feature in schema["features"]:
        parts = [feature["type"], "required" if feature["required"] else "optional"]
        parts.append("missing allowed" if feature["missing"] else "no missing")
        if feature["min"] is not None or feature["max"] is not None:
            parts.append(f"range {_g(feature['min'])}..{_g(feature['max'])}")
        if feature["values"] is not None:
            values = ", ".join(shown(v) for v in feature["values"][:8])
            more = len(feature["values"]) - 8
            parts.append(f"values {values}" + (f", … {more} more" if more > 0 else ""))
        parts.append("drift off" if feature["drift"] is None else f"drift {feature['drift']:g}")
        target = " (target)" if feature["name"] == schema.get("target") else ""
        lines.append(f"  {shown(feature['name']):<{width}}  {'; '.join(parts)}{target}")
    return lines


# -- check-data ----------------------------------------------------------------------------------


def check_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("file", type=Path, help="the CSV/TSV file to check")
    p.add_argument("--json", action="store_true")


def cmd_check_data(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.data_checks import check_data, stored_schema

    # Read-only unless no schema is stored yet: then it is inferred and stored (and said so).
    with open_project(args.project, readonly=True) as opened:
        has_schema = stored_schema(opened) is not None
        if has_schema:
            result = check_data(opened, args.file)
    if not has_schema:
        with open_project(args.project) as opened:
            result = check_data(opened, args.file)
    for note in result.notes:
        print(note, file=sys.stderr)
    if args.json:
        emit_json(result.to_json())
    elif result.passed:
        print(f"{shown(args.file.name)}: no anomalies ({result.statistics['rows']} rows)")
    else:
        print(f"{shown(args.file.name)}: {len(result.anomalies)} anomalies")
        for anomaly in result.anomalies:
            print(f"  - {anomaly.kind}: {anomaly.message}")
    return EXIT_OK if result.passed else EXIT_INVALID
