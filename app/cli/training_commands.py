"""Training commands: train (with a progress line), runs, evaluate and the internal worker."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_OK, emit_json, starting_tensorflow
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.wording import plural


def train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "--epochs", type=int, help="total epochs (a resumed run counts its earlier ones)"
    )
    p.add_argument("--batch-size", type=int, help="samples per step")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument(
        "--resume", type=int, metavar="RUN", help="continue RUN from its last checkpoint"
    )
    p.add_argument(
        "--init-from",
        type=int,
        metavar="RUN",
        help="a new run starting from RUN's weights, layer by layer where names and shapes match",
    )
    p.add_argument("--json", action="store_true", help="the worker's events as JSON Lines")
    p.add_argument("--remote", metavar="NAME", help="train on a remote host (`layerloom remote`)")
    p.add_argument(
        "--remote-data", metavar="PATH", help="the dataset's path on the remote (nothing uploaded)"
    )
    p.add_argument(
        "--detach", action="store_true", help="start the run and return; `attach` follows it"
    )
    p.add_argument(
        "--health",
        choices=("on", "off"),
        help="sample training health per node (default on; `layerloom health` shows it)",
    )


def _fmt_metrics(metrics: dict[str, Any]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, (int, float)))


def _fmt_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _ProgressLine:
    """Epoch/step/ETA/metrics on one terminal line (redrawn with \\r); a line per epoch."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.started: dict[str, Any] = {}

    def show(self, event: dict[str, Any]) -> None:
        kind, started = event["type"], self.started
        if kind == "started":
            self.started = event
            self._line(
                f"training on {', '.join(event['devices'])}: {event['params']:,} params, "
                f"{plural(event['samples'].get('train', 0), 'sample')}, "
                f"{event['steps_per_epoch']} steps/epoch"
            )
        elif kind == "batch" and self.live and started:
            spe, epochs = started["steps_per_epoch"], started["epochs"]
            left = (epochs - event["epoch"]) * spe + spe - event["step"]
            rate = event["samples_per_second"] or 1.0
            eta = _fmt_seconds(left * started["batch_size"] / rate)
            bar = "#" * (20 * event["step"] // spe)
            text = (
                f"epoch {event['epoch']}/{epochs} [{bar:<20}] {event['step']}/{spe} ETA {eta} "
                f"{_fmt_metrics(event['metrics'])}"
            )
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        elif kind == "epoch":
            epochs = started.get("epochs", "?")
            self._line(
                f"epoch {event['epoch']}/{epochs}: {_fmt_metrics(event['metrics'])}  "
                f"({event.get('seconds', 0):.1f} s)"
            )
        elif kind == "log":
            self._line(f"{event['level']}: {event['message']}")

    def _line(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.live else "") + text + "\n")
        self.stream.flush()


def cmd_train(args: argparse.Namespace) -> int:
    if args.remote is None:  # a remote's worker loads TensorFlow there, not here
        starting_tensorflow(args)
    elif not args.json:
        print(f"starting the worker on {args.remote}…", file=sys.stderr, flush=True)
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.adapting import scale_warnings_for
    from layerloom.app.workbench.remotes import training_backend
    from layerloom.app.workbench.training import start_run

    asked = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr}
    if args.health is not None:
        asked["health"] = args.health == "on"
    backend = training_backend(args.remote, args.remote_data)
    with open_project(args.project) as opened:
        settings = {k: v for k, v in asked.items() if v is not None}
        if args.resume is None:  # said once, when a run starts on the data
            for line in scale_warnings_for(opened):
                print(line, file=sys.stderr, flush=True)
        session = start_run(
            opened, settings, args.resume, backend=backend, init_run_id=args.init_from
        )
        if args.detach:
            session.detach()
            print(f"run {session.run_id} started on {args.remote or 'this machine'}; follow it "
                  f"with `layerloom attach {args.project} {session.run_id}`")  # fmt: skip
            return EXIT_OK
        return _follow(session, args, detach_on_interrupt=args.remote is not None)


def _follow(session: Any, args: argparse.Namespace, *, detach_on_interrupt: bool) -> int:
    """Record and show a run's events until it ends. Ctrl-C stops a local run after its current
    batch (a second one kills it); a remote run is left running, to ``attach`` to later."""
    import signal
    import time

    from layerloom.app.workbench.training import serialise_event

    progress = _ProgressLine(sys.stderr)
    interrupts: list[int] = []
    # Ctrl-C must not interrupt a write to the project: the handler only takes note, and the
    # loop decides what to do between events.
    previous = signal.signal(signal.SIGINT, lambda *_: interrupts.append(1))
    detached = False
    try:
        handled = 0
        while not session.done:
            if len(interrupts) > handled:
                handled = len(interrupts)
                if detach_on_interrupt:
                    session.detach()
                    detached = True
                    break
                (session.cancel if handled == 1 else session.kill)()
                if not args.json:
                    print("\nstopping after the current batch...", file=sys.stderr)
            events = session.poll()
            for event in events:
                if args.json:
                    print(serialise_event({**event, "run_id": session.run_id}), flush=True)
                else:
                    progress.show(event)
            if not events:
                time.sleep(0.05)
    finally:
        signal.signal(signal.SIGINT, previous)
        if not detached:
            session.close()
    run_id = session.run_id
    if detached:
        print(f"\ndetached: run {run_id} goes on; `layerloom attach {args.project} {run_id}` "
              f"follows it again, `layerloom stop {args.project} {run_id}` stops it",
              file=sys.stderr)  # fmt: skip
        return EXIT_OK
    if session.status == "failed":
        raise LayerloomError(f"training failed (run {run_id}): {session.error}")
    if session.status == "diverged":
        kept = session.recorder.last_checkpoint
        then = (
            f"its last finite checkpoint (epoch {kept['epoch']}) is kept: continue from it with "
            f"--resume {run_id} and a lower --lr"
            if kept
            else "no epoch of this run ended before that, so it has no checkpoint"
        )
        raise LayerloomError(f"run {run_id}: {session.error}; {then}")
    if session.status == "cancelled":
        print(f"run {run_id} cancelled; continue it with --resume {run_id}", file=sys.stderr)
        return 130
    if not args.json:
        print(f"run {run_id} finished: {_fmt_metrics(session.last_event.get('metrics', {}))}")
        _print_result(session.opened, run_id)
    return EXIT_OK


def _print_result(opened: Any, run_id: int) -> None:
    """The best epoch, its metrics, and the run evaluate and export use from now on."""
    from layerloom.app.workbench.run_choice import result_of

    result = result_of(opened, run_id)
    if result.best_epoch is not None:
        print(
            f"best epoch {result.best_epoch} of {result.epochs} (its best checkpoint): "
            f"{_fmt_metrics({k: v for k, v in result.best_metrics.items() if k != 'lr'})}"
        )
    if result.chosen is not None:
        other = f"; this run with --run {run_id}" if result.chosen.run_id != run_id else ""
        print(f"evaluate and export use {result.chosen.reason}{other}")


def attach_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("run", type=int, help="the run to follow again")
    p.add_argument("--json", action="store_true", help="the events still to come, as JSON Lines")


def cmd_attach(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.training import attach_run

    with open_project(args.project) as opened:
        session = attach_run(opened, args.run)
        if not args.json:
            print(f"attached to run {args.run}; recording from event {session.last_seq + 1}",
                  file=sys.stderr)  # fmt: skip
        return _follow(session, args, detach_on_interrupt=True)


def stop_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("run", type=int, help="the running run to stop")


def cmd_stop(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.training import stop_run

    with open_project(args.project) as opened:
        said = stop_run(opened, args.run)
    print(f"{said}; it checkpoints and can be resumed with --resume {args.run}")
    return EXIT_OK


def runs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--json", action="store_true")


def cmd_runs(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.training import runs

    with open_project(args.project, readonly=True) as opened:
        found = runs(opened)
    if args.json:
        emit_json([asdict(run) for run in found])
        return EXIT_OK
    if not found:
        print(f"{args.project}: no runs yet (start one with `layerloom train`)")
    for run in found:
        if "imported_from" in run.settings:  # a starting point, not a training run: no epochs
            source = run.settings["imported_from"]
            print(f"run {run.id}  imported   graph v{run.graph_version_id}  weights of {source}")
            continue
        took = "-" if run.duration is None else _fmt_seconds(run.duration)
        origin = f" (resumes run {run.resumed_from})" if run.resumed_from else ""
        if run.settings.get("init"):  # train --init-from
            origin += f" (from run {run.settings['init']['run']}'s weights)"
        where = f"  {run.backend or 'local'} {run.host or ''}".rstrip()
        print(
            f"run {run.id}  {run.status:<9}  graph v{run.graph_version_id}  {plural(run.epochs, 'epoch')}  "
            f"{took}{origin}{where}"
        )
        if run.final_metrics:
            print(f"    final: {_fmt_metrics(run.final_metrics)}")
        if run.best_epoch:
            print(f"    best (epoch {run.best_epoch}): {_fmt_metrics(run.best_metrics)}")
        if run.error:
            print(f"    error: {run.error}")
    return EXIT_OK


def evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "--run", type=int, help="the run to evaluate (default: the best finished run of the graph)"
    )
    p.add_argument("--split", choices=("validation", "test", "train"), default="validation")
    p.add_argument(
        "--run-data",
        action="store_true",
        help="evaluate on the dataset the run trained on, not the project's current one",
    )
    p.add_argument("--json", action="store_true")


def cmd_evaluate(args: argparse.Namespace) -> int:
    starting_tensorflow(args)
    from dataclasses import asdict

    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.evaluating import evaluate

    with open_project(args.project, readonly=True) as opened:  # evaluate records nothing
        result = evaluate(opened, args.run, args.split, own_data=args.run_data)
    if result.warning:
        print(f"layerloom: warning: {result.warning}", file=sys.stderr)
    if args.json:
        emit_json(asdict(result))
        return EXIT_OK
    print(f"using {result.reason}")
    where = f"run {result.run_id}, {result.checkpoint['kind']} checkpoint (epoch"
    print(
        f"{where} {result.checkpoint['epoch']}), {result.split}: {plural(result.samples, 'sample')}"
    )
    if result.task != "classification":
        print(f"MAE {result.mae:.4f}  RMSE {result.rmse:.4f}  R² {result.r2:.4f}")
        return EXIT_OK
    print(f"accuracy {result.accuracy:.4f}")
    width = max(5, *(len(c) for c in result.classes))
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + " " + " ".join(c[:6].rjust(6) for c in result.classes))
    for name, row in zip(result.classes, result.confusion_matrix, strict=True):
        print(name.rjust(width) + " " + " ".join(str(n).rjust(6) for n in row))
    print(f"{'class'.rjust(width)} precision recall     f1 support")
    for item in result.per_class:
        print(
            f"{item['class'].rjust(width)} {item['precision']:9.3f} {item['recall']:6.3f} "
            f"{item['f1']:6.3f} {item['support']:7d}"
        )
    return EXIT_OK


def worker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", type=Path, help="the job file a training backend wrote")


def cmd_worker(args: argparse.Namespace) -> int:
    from layerloom.app.workbench.training import run_worker

    return run_worker(str(args.job))
