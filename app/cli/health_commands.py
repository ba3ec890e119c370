"""``layerloom health``: a run's training health per node, its findings, and where it diverged."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_OK, emit_json

# Column headings of the text table, per figure.
HEADINGS = {
    "grad_norm": "grad",
    "weight_norm": "weight",
    "update_ratio": "update",
    "activation_mean": "act mean",
    "activation_std": "act std",
    "dead_fraction": "dead",
    "saturated_fraction": "saturated",
}


def health_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "run", type=int, nargs="?", help="the run (default: the latest run with health figures)"
    )
    p.add_argument("--json", action="store_true", help="every sample of every node, and findings")


def _cell(figure: str, value: Any) -> str:
    if value is None:
        return "-"
    if figure in ("dead_fraction", "saturated_fraction"):
        return f"{value * 100:.0f} %"
    return f"{value:.3g}"


def cmd_health(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.health import FIGURES, health_report, nonfinite_sentence

    with open_project(args.project, readonly=True) as opened:
        report = health_report(opened, args.run)
    if args.json:
        emit_json(report.to_json())
        return EXIT_OK
    steps = {s["step"] for samples in report.nodes.values() for s in samples}
    last = max((s for s in steps if s is not None), default=None)
    if last is None:
        print(f"run {report.run_id}: no health samples (it ended before the first was due)")
    else:
        print(f"run {report.run_id}: {len(steps)} health samples, the latest at step {last}")
    if report.nodes:
        width = max(4, *(len(node) for node in report.nodes))
        print("node".ljust(width) + "".join(HEADINGS[f].rjust(11) for f in FIGURES))
        for node, samples in report.nodes.items():
            latest = samples[-1]
            print(node.ljust(width) + "".join(_cell(f, latest.get(f)).rjust(11) for f in FIGURES))
    if report.nonfinite:
        print(nonfinite_sentence(report.nonfinite))
    if not report.findings:
        print("no findings: the figures look healthy")
    for finding in report.findings:
        print(f"- {finding.message}")
    return EXIT_OK
