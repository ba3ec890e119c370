"""The data command: set or show a project's dataset, checked against its graph."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_OK, emit_json, model_name

SPLIT_NAMES = ("task", "validation", "test", "seed", "split_column")


def source_args(p: argparse.ArgumentParser) -> None:
    """The dataset flags `data` and `new` share: a source, its options, the task and the split."""
    # Every source flag and per-kind option comes from the SOURCES registry: a new source module
    # appears here without touching this file.
    from layerloom.nodes.datasets import SOURCES

    source = p.add_mutually_exclusive_group()
    for kind, cls in SOURCES.items():
        metavar = {"file": "FILE", "folder": "DIR", "name": "NAME"}.get(cls.locator, "PATH")
        path_type = str if cls.locator == "name" else Path
        source.add_argument(f"--{kind}", type=path_type, metavar=metavar, help=cls.cli_help)
    for kind, cls in SOURCES.items():
        for option in cls.cli_options:
            p.add_argument(
                f"--{option.name}", metavar=option.metavar, help=f"{kind}: {option.help}"
            )
    p.add_argument(
        "--task",
        choices=("classification", "regression", "reconstruction"),
        help="what to predict (default: chosen from the target, and said why)",
    )
    p.add_argument("--validation", type=float, metavar="RATIO", help="default 0.2")
    p.add_argument("--test", type=float, metavar="RATIO", help="default 0.1")
    p.add_argument("--seed", type=int, help="split seed (default 42)")
    p.add_argument("--split-column", metavar="COL", help="csv: train/validation/test per row")


def spec_from_args(args: argparse.Namespace, current: dict[str, Any] | None) -> dict | None:
    """The spec the `source_args` flags describe (None when they ask for nothing)."""
    from layerloom.nodes.datasets import SOURCES, spec_from_options

    names = [*SOURCES, *(o.name for cls in SOURCES.values() for o in cls.cli_options)]
    return spec_from_options(
        {name: getattr(args, name) for name in [*names, *SPLIT_NAMES]}, current
    )


def print_adaptation(adaptation: Any) -> None:
    """The task line, then every change, one line each."""
    print(adaptation.task_line)
    for line in adaptation.lines() + adaptation.notes:
        print(f"- {line}")


def data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    source_args(p)
    p.add_argument(
        "--adapt",
        action="store_true",
        help="fit the graph to the data: input shape, preprocessing, output, loss and metrics",
    )
    p.add_argument("--rows", type=int, default=5, help="rows to preview (default 5)")
    p.add_argument("--json", action="store_true")


def cmd_data(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.adapting import adapt_project, apply_adaptation
    from layerloom.nodes.adapt import scale_warnings
    from layerloom.nodes.compile import build_plan
    from layerloom.nodes.datasets import (
        SOURCES,
        DatasetError,
        dataset_spec_for,
        open_source,
        store_dataset_spec,
        stored_dataset_spec,
    )

    adaptation = None
    with open_project(args.project) as opened:
        stored = stored_dataset_spec(opened)
        try:
            current = dataset_spec_for(opened)  # stored (absolute paths) or the template's sample
        except DatasetError:
            current = None
        spec = spec_from_args(args, current)
        if spec is None and current is None:
            flags = [f"--{kind}" for kind in SOURCES]
            raise DatasetError(
                f"{args.project} has no dataset; give {', '.join(flags[:-1])} or {flags[-1]}"
            )
        if args.adapt:
            # Fitted and checked before anything is written: bad data leaves the file as it was.
            adaptation = adapt_project(opened, spec or current)
            spec, info = adaptation.spec, adaptation.info
        source = open_source(spec or current)
        if adaptation is None:
            try:
                info = source.check(
                    build_plan(opened.graph, opened.registry, model_name(args.project))
                )
            except DatasetError as error:
                raise _suggest_adapt(error, opened, spec or current) from None
        preview, fingerprint = source.preview(args.rows), source.fingerprint()
        if adaptation is not None:
            apply_adaptation(opened, adaptation)
            stored = stored_dataset_spec(opened)
        elif spec is not None:
            stored = store_dataset_spec(opened, spec)
        warnings = scale_warnings(opened.graph, opened.registry, source)
    shown = stored or current
    for line in warnings:
        print(line, file=sys.stderr)
    if args.json:
        fitted = {}
        if adaptation is not None:
            fitted = {"task": adaptation.task_line, "changes": adaptation.lines()}
        emit_json(
            {"dataset": shown, "default": stored is None, "info": info.to_json()}
            | {"preview": preview.to_json(), "fingerprint": fingerprint}
            | fitted
        )
        return EXIT_OK
    if adaptation is not None:
        print_adaptation(adaptation)
    title = (
        "dataset set" if spec else "dataset (the template's sample)" if not stored else "dataset"
    )
    print(f"{title}: {json.dumps(shown)}")
    print("\n".join(preview.lines()))
    print(f"fits the model: {info.summary()}")
    print(f"fingerprint: {fingerprint[:16]}")
    return EXIT_OK


def _suggest_adapt(error: Exception, opened: Any, spec: dict) -> Exception:
    """The check's error, with "--adapt" suggested when fitting the graph would make it fit."""
    from layerloom.app.workbench.adapting import adapt_project
    from layerloom.nodes.datasets import DatasetError
    from layerloom.nodes.errors import LayerloomError

    try:
        count = len(adapt_project(opened, spec).changes)
    except LayerloomError:
        return error  # the data itself is at fault: fitting the graph would not help
    return DatasetError(f"{error}; add --adapt to fit the graph to the data ({count} changes)")
