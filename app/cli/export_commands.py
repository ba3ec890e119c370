"""CLI commands for deployment: ``export`` one run to a target, list ``exports`` and ``exporters``.

Exit codes of ``export``: 0 when the artifact passed its parity check, 2 when it was written but
missed its tolerance (a script can refuse to ship it), 1 when nothing could be exported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_OK, EXIT_USER_ERROR, emit_json, starting_tensorflow

EXIT_PARITY_FAILED = 2


def export_args(p: argparse.ArgumentParser) -> None:
    # Through the workbench, as every face reaches the exporters (no exporter module is loaded).
    from layerloom.app.workbench.export_targets import target_names

    targets = ", ".join(target_names())
    p.add_argument("project", type=Path)
    p.add_argument(
        "--target",
        required=True,
        metavar="TARGET",
        help=f"where the model goes: {targets} (`layerloom exporters` lists options)",
    )
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="folder")
    p.add_argument("--run", type=int, help="the run whose weights to export (default: the latest)")
    p.add_argument(
        "--checkpoint",
        choices=("best", "last"),
        default="best",
        help="which of the run's checkpoints (default: best)",
    )
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an exporter option, repeatable (e.g. --opt quantization=int8)",
    )
    p.add_argument("--overwrite", action="store_true", help="write into a folder that is not empty")
    p.add_argument("--json", action="store_true", help="print the files and parity report as JSON")


def parse_opts(pairs: list[str]) -> dict[str, str]:
    from layerloom.app.workbench.export_targets import ExportError

    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ExportError(f"--opt needs KEY=VALUE, got {pair!r}")
        options[key.strip()] = value.strip()
    return options


class _Progress:
    """The current stage and the elapsed time on one stderr line (a line per stage when piped)."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.started = time.monotonic()
        self.shown = ""

    def show(self, stage: str) -> None:
        elapsed = time.monotonic() - self.started
        if self.live:
            spinner = "|/-\\"[int(elapsed * 4) % 4]
            sys.stderr.write(f"\r\033[K{spinner} {stage} ({elapsed:.0f} s)")
            sys.stderr.flush()
        elif stage != self.shown:
            print(f"  {stage}", file=sys.stderr, flush=True)
        self.shown = stage

    def end(self) -> None:
        if self.live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _run(session: Any, quiet: bool) -> Any:
    progress = None if quiet else _Progress()
    try:
        while not session.done:
            session.poll()
            if progress is not None:
                progress.show(session.stage)
            time.sleep(0.1)
    except KeyboardInterrupt:
        session.cancel()
        raise
    finally:
        if progress is not None:
            progress.end()
    return session.outcome


def cmd_export(args: argparse.Namespace) -> int:
    starting_tensorflow(args)
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.export_targets import parity_line
    from layerloom.app.workbench.exporting import prepare_export, start_export

    # Its one write is the export's record: the file keeps its journal mode (docs/cli.md).
    with open_project(args.project, keep_journal_mode=True) as opened:
        prepared = prepare_export(
            opened,
            args.target,
            args.output,
            run_id=args.run,
            options=parse_opts(args.opt),
            checkpoint=args.checkpoint,
            overwrite=args.overwrite,
        )
        if not args.json:
            kind = prepared.checkpoint["kind"]
            print(f"using {prepared.reason}", file=sys.stderr)
            print(
                f"exporting run {prepared.run_id} ({kind} checkpoint, epoch "
                f"{prepared.checkpoint['epoch']}) to {prepared.exporter.title} in a worker...",
                file=sys.stderr,
                flush=True,
            )
        session = start_export(prepared)
        try:
            outcome = _run(session, quiet=args.json)
        finally:
            session.close()
    if args.json:
        emit_json(outcome.to_json())
    elif outcome.status == "error":
        pass  # reported below, on stderr
    else:
        print(f"{prepared.exporter.title}: {outcome.out_dir}")
        for path in outcome.files:
            print(f"  {Path(path).relative_to(outcome.out_dir)}")
        # What the target measured (a microcontroller's flash and RAM), label: text.
        for label, text in (outcome.details.get("figures") or {}).items():
            print(f"{label}: {text}")
        print(parity_line(outcome.parity, outcome.runtime))
        print(f"parity batch: {outcome.sample_source}; {outcome.seconds:.1f} s")
    if outcome.status == "error":
        print(f"layerloom: error: export failed: {outcome.error}", file=sys.stderr)
        return EXIT_USER_ERROR
    if outcome.status != "passed":
        if not args.json:
            print("layerloom: the export missed its parity tolerance", file=sys.stderr)
        return EXIT_PARITY_FAILED
    return EXIT_OK


def exports_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true")


def cmd_exports(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.exporting import exports

    with open_project(args.project, readonly=True) as opened:  # reading changes nothing
        found = exports(opened)
    if args.json:
        emit_json([asdict(item) for item in found])
        return EXIT_OK
    if not found:
        print("no exports yet (`layerloom export P.loom --target tflite -o DIR`)")
        return EXIT_OK
    rows = []
    for item in found:
        error = item.parity.get("max_abs_error")
        figure = f"max abs error {error:.2g}" if isinstance(error, float) else "-"
        agreement = item.parity.get("top1_agreement")
        if isinstance(agreement, float):
            figure += f", top-1 {agreement:.1%}"
        run = f"run {item.run_id}" if item.run_id else "run -"
        rows.append((str(item.id), run, item.target, item.status, figure, str(item.path)))
    print_columns(("id", "run", "target", "status", "parity", "path"), rows, right=(0,))
    return EXIT_OK


def print_columns(
    header: tuple[str, ...], rows: list[tuple[str, ...]], right: tuple[int, ...] = ()
) -> None:
    """A table whose columns line up however long each cell is (the last column is left ragged)."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def exporters_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def cmd_exporters(args: argparse.Namespace) -> int:
    from layerloom.app.workbench.export_targets import describe_targets

    described = describe_targets()
    if args.json:
        emit_json(described)
        return EXIT_OK
    for item in described:
        missing = f"  [unavailable: {item['unavailable']}]" if item["unavailable"] else ""
        print(f"{item['target']:8s} {item['title']}: {item['summary']}{missing}")
        for option in item["options"]:
            choices = f" ({'|'.join(option['choices'])})" if option.get("choices") else ""
            print(
                f"    --opt {option['name']}={option['default']}{choices}  {option.get('doc', '')}"
            )
    return EXIT_OK
