"""Start-up a user feels: the TensorFlow commands next to a bare ``import tensorflow, keras``.

Run from the repository root: .venv/bin/python -m bench.startup [ROUNDS]   (see bench/README.md)

Every figure is a fresh process, timed from its start by this script's clock:

- ``bare``: ``python -c "import tensorflow, keras"``, start to exit: the floor for any command
  that needs TensorFlow. ``--help``: ``layerloom --help``, start to exit: the CLI's own start-up,
  the floor for a first line.
- ``first line``: until the command's first line on stderr (its "Starting TensorFlow…" line).
- ``real work``: until the command starts its own work or is done with it:
  ``summary`` and ``evaluate``: the process exits, so their figure includes the work itself
  (compiling and summarising the 5-node sample model; evaluating its 300 validation samples in the
  worker, ``predict`` tracing included, and the worker's exit), an upper bound on what they pay
  before it; ``evaluate*``: the worker's ``started`` event (model built, checkpoint loaded, data
  read) on ``evaluate``'s own path (``--probe-evaluate``: the workbench use case the command calls,
  with each event noted as it arrives, since the command shows none until the end); ``train``:
  the worker's ``started`` event (model built, data loaded, the first batch about to run), i.e.
  the progress line ``training on ...``; ``export``: the worker's first stage after loading TensorFlow and the
  trained model (model built, weights loaded; the stage lines are polled every 0.1 s).

The overhead is ``real work`` minus ``bare`` in the same round; the target is <= 1.5 s. Rounds
alternate the order of the commands; figures are medians.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

EXE = Path(sys.executable).parent / "layerloom"
TARGET_OVERHEAD = 1.5
# The export's progress lines (one per stage, polled every 0.1 s) until the worker has TensorFlow
# and the trained model; the next stage is its real work.
BEFORE_MODEL = ("starting the converter", "loading the trained model")


def timed_process(argv: list[str], marker: Callable[[str], bool] | None) -> tuple[float, float]:
    """(seconds to the first stderr line, seconds to ``marker`` on stderr, or to exit if None)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )
    first = hit = None
    lines: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        now = time.perf_counter() - start
        lines.append(line)
        if first is None:
            first = now
        if hit is None and marker is not None and marker(line):
            hit = now
    proc.wait()
    end = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} exited {proc.returncode}:\n{''.join(lines[-20:])}")
    if marker is not None and hit is None:
        raise RuntimeError(f"{argv}: the marker line never came:\n{''.join(lines[-20:])}")
    return (end if first is None else first), (end if hit is None else hit)


def probe_evaluate(project: str, run_id: int) -> None:
    """``layerloom evaluate``'s own path (open the project, the workbench's ``evaluate`` on the
    default backend), writing ``event TYPE`` on stderr as each worker event arrives: the CLI shows
    no event until the end, so this is how its worker's ``started`` is timed."""
    from layerloom.app.workbench import open_project
    from layerloom.app.workbench.evaluating import evaluate
    from layerloom.backends.registry import create_backend

    class Handle:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def events(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
            for event in self.handle.events(*args, **kwargs):
                print(f"event {event['type']}", file=sys.stderr, flush=True)
                yield event

        def __getattr__(self, name: str) -> Any:
            return getattr(self.handle, name)

    class Backend:
        def __init__(self, backend: Any) -> None:
            self.backend = backend

        def start(self, *args: Any, **kwargs: Any) -> Handle:
            return Handle(self.backend.start(*args, **kwargs))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.backend, name)

    with open_project(project) as opened:
        evaluate(opened, run_id, "validation", backend=Backend(create_backend()))


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project, work = Path(tmp) / "P.loom", Path(tmp) / "T.loom"
        for path in (project, work):
            subprocess.run(
                [EXE, "new", path, "--template", "mlp_classifier"], check=True, capture_output=True
            )
        subprocess.run([EXE, "train", project, "--epochs", "1"], check=True, capture_output=True)
        cases: dict[str, tuple[list, Callable[[str], bool] | None]] = {
            "bare": ([sys.executable, "-c", "import tensorflow, keras"], None),
            "--help": ([EXE, "--help"], None),
            "summary": ([EXE, "summary", project], None),
            "train": (
                [EXE, "train", work, "--epochs", "1"],
                lambda line: line.startswith("training on "),
            ),
            "evaluate": ([EXE, "evaluate", project, "--run", "1"], None),
            "evaluate*": (
                [sys.executable, "-m", "bench.startup", "--probe-evaluate", project, "1"],
                lambda line: line.startswith("event started"),
            ),
            "export": (
                [EXE, "export", project, "--target", "keras", "-o", Path(tmp) / "out"]
                + ["--run", "1", "--overwrite"],
                lambda line: line.startswith("  ") and line.strip() not in BEFORE_MODEL,
            ),
        }
        subprocess.run(cases["bare"][0], check=True, capture_output=True)  # warm the page cache
        figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in cases}
        names = list(cases)
        for index in range(rounds):
            order = names if index % 2 == 0 else names[::-1]
            measured = {name: timed_process(*cases[name]) for name in order}
            bare = measured["bare"][1]
            for name, (first, work_at) in measured.items():
                figures[name].append((first, work_at, work_at - bare))
            print(f"round {index + 1}/{rounds}: bare {bare:.2f} s", file=sys.stderr, flush=True)

    print(f"medians of {rounds} rounds (seconds from process start)")
    print(f"{'command':10s} {'first line':>10s} {'real work':>10s} {'over bare':>10s}")
    for name, rows in figures.items():
        first, work_at, over = (statistics.median(column) for column in zip(*rows, strict=True))
        if name in ("bare", "--help", "evaluate*"):  # no progress line of their own
            print(f"{name:10s} {'-':>10s} {work_at:10.2f} {over:+10.2f}")
            continue
        verdict = "ok" if over <= TARGET_OVERHEAD else f"OVER {TARGET_OVERHEAD} s"
        print(f"{name:10s} {first:10.2f} {work_at:10.2f} {over:+10.2f}  {verdict}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe-evaluate"]:
        probe_evaluate(sys.argv[2], int(sys.argv[3]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
