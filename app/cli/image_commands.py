"""``layerloom graph-image``: the graph as a PNG or SVG picture, drawn as the editor draws it.

The picture comes from the editor's own canvas (``layerloom.app.gui.render``), run as its own
process with Qt's offscreen platform: the CLI never imports Qt (an import contract), the same
way ``layerloom gui`` starts the editor.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from layerloom.app.cli.common import EXIT_OK
from layerloom.nodes.errors import LayerloomError, UsageError

SUFFIXES = (".png", ".svg")


def graph_image_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE", help="FILE.png or FILE.svg"
    )


def cmd_graph_image(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() not in SUFFIXES:
        raise UsageError(f"{args.output}: the image must end in .png or .svg")
    if not args.project.is_file():
        raise LayerloomError(f"{args.project}: no such project file")
    argv = [sys.executable, "-m", "layerloom.app.gui.render", str(args.project), "-o"]
    done = subprocess.run([*argv, str(args.output)], capture_output=True, text=True)
    if done.returncode != 0:
        # The renderer's own one-line message names the file and the problem.
        message = done.stderr.strip().splitlines()
        raise LayerloomError(message[-1].removeprefix("layerloom graph-image: ") if message else "")
    print(done.stdout.strip())
    return EXIT_OK
