"""The data command: set or show a project's dataset, checked against its graph."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from layerloom.app.cli.common import EXIT_OK, emit_json, model_name


def data_args(p: argparse.ArgumentParser) -> None:
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
    from layerloom.app.workbench import open_project
    from layerloom.nodes.compile import build_plan
    from layerloom.nodes.datasets import (
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
