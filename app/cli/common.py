"""What every CLI command shares: the command record, exit codes, JSON output and formatting."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from layerloom.nodes.spec import format_shape
from layerloom.nodes.user_paths import log_path  # noqa: F401 - the CLI error handler's

EXIT_OK, EXIT_USER_ERROR, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 1, 3
EXIT_USAGE = 2  # UsageError: a name or value typed that cannot be used, as for argparse's errors


class Command(NamedTuple):
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def starting_tensorflow(args: argparse.Namespace) -> None:
    """Say at once that TensorFlow is on its way, before anything imports it (~3-5 s, cold).

    Called first thing by every command that needs TensorFlow (here or in its worker), so the user
    sees a line before that wait. Silent with ``--json``: stdout and stderr stay machine-readable.
    """
    if not getattr(args, "json", False):
        print("Starting TensorFlow…", file=sys.stderr, flush=True)


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def fmt_shape(shape: list | None) -> str:
    return "-" if shape is None else format_shape(shape)


def model_name(path: Path) -> str:
    return re.sub(r"\W+", "_", path.stem).strip("_") or "model"


def print_problems(problems: list[dict[str, Any]]) -> None:
    """A graph's problems (``GraphReport.problems``) as ``info``, ``validate`` and ``edit`` print
    them: "no problems", or their count and one line each."""
    if not problems:
        print("no problems")
        return
    print(f"{len(problems)} problem(s):")
    for problem in problems:
        print(f"  - {problem['message']}")


def params_text(report: Any) -> str:
    """A GraphReport's parameter count, split into trainable and frozen when a node is frozen."""
    from layerloom.nodes.freezing import ParamSplit

    return ParamSplit(report.trainable_params, report.frozen_params).text()
