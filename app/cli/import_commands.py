"""`layerloom import`: a Keras model file or application becomes a new project, weights included."""

from __future__ import annotations

import argparse
from pathlib import Path

from layerloom.app.cli.common import EXIT_OK, emit_json, starting_tensorflow
from layerloom.nodes.errors import UsageError

APPLICATIONS = "keras.applications."


def import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="a .keras file or a legacy .h5 full-model file")
    p.add_argument(
        "--from",
        dest="application",
        metavar="keras.applications.NAME",
        help="a Keras application instead of a file, built without downloading weights",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="the project file to create")
    p.add_argument(
        "--input-shape", metavar="H,W,C", help="the application's input shape (with --from)"
    )
    p.add_argument("--classes", type=int, metavar="N", help="the application's classes (--from)")
    p.add_argument(
        "--weights", type=Path, metavar="FILE", help="the application's weights file (--from)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace the project file if it exists")
    p.add_argument("--json", action="store_true", help="the import report as JSON")


def _shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise UsageError(f"--input-shape takes sizes like 32,32,3, not {text!r}")
    return shape


def cmd_import(args: argparse.Namespace) -> int:
    if (args.model is None) == (args.application is None):
        raise UsageError("import takes a model file or --from keras.applications.NAME (one)")
    if args.application is not None and not args.application.startswith(APPLICATIONS):
        raise UsageError(f"--from takes keras.applications.NAME, not {args.application!r}")
    if args.model is not None and (args.input_shape or args.classes or args.weights):
        raise UsageError("--input-shape, --classes and --weights go with --from only")
    if args.classes is not None and args.classes < 1:
        raise UsageError(f"--classes must be 1 or more, not {args.classes}")
    shape = _shape(args.input_shape)
    starting_tensorflow(args)
    from layerloom.app.workbench.importing import import_model

    report = import_model(
        args.application or args.model,
        args.output,
        input_shape=shape,
        classes=args.classes,
        weights=args.weights,
        overwrite=args.overwrite,
    )
    if args.json:
        emit_json(report.to_json())
    else:
        print("\n".join(report.lines()))
    return EXIT_OK
