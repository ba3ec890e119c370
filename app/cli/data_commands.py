"""The data command: set or show a project's dataset, checked against its graph."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from layerloom.app.cli.common import EXIT_OK, emit_json, model_name


def data_args(p: argparse.ArgumentParser) -> None:
    # Every source flag and per-kind option comes from the SOURCES registry: a new source module
    # appears here without touching this file.
    from layerloom.nodes.datasets import SOURCES

    p.add_argument("project", type=Path)
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
    p.add_argument("--task", choices=("classification", "regression", "reconstruction"))
    p.add_argument("--validation", type=float, metavar="RATIO", help="default 0.2")
    p.add_argument("--test", type=float, metavar="RATIO", help="default 0.1")
    p.add_argument("--seed", type=int, help="split seed (default 42)")
    p.add_argument("--split-column", metavar="COL", help="csv: train/validation/test per row")
    p.add_argument("--rows", type=int, default=5, help="rows to preview (default 5)")
    p.add_argument("--json", action="store_true")


def cmd_data(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.nodes.compile import build_plan
    from layerloom.nodes.datasets import (
        SOURCES,
        DatasetError,
        dataset_spec_for,
        open_source,
        spec_from_options,
        store_dataset_spec,
        stored_dataset_spec,
    )

    with open_project(args.project) as opened:
        stored = stored_dataset_spec(opened)
        try:
            current = dataset_spec_for(opened)  # stored (absolute paths) or the template's sample
        except DatasetError:
            current = None
        names = [*SOURCES, *(o.name for cls in SOURCES.values() for o in cls.cli_options)]
        names += ["task", "validation", "test", "seed", "split_column"]
        spec = spec_from_options({name: getattr(args, name) for name in names}, current)
        if spec is None and current is None:
            flags = [f"--{kind}" for kind in SOURCES]
            raise DatasetError(
                f"{args.project} has no dataset; give {', '.join(flags[:-1])} or {flags[-1]}"
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
