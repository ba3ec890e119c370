"""Start-up a user feels: the TensorFlow commands next to a bare ``import tensorflow, keras``.

Run from the repository root: .venv/bin/python -m bench.startup [ROUNDS]   (see bench/README.md)

Every figure is a fresh process, timed from its start by this script's clock:

- ``bare``: ``python -c "import tensorflow, keras"``, start to exit: the floor for any command
  that needs TensorFlow.
- ``first line``: until the command's first line on stderr (its "Starting TensorFlow…" line).
- ``real work``: until the command starts its own work or is done with it:
  ``summary`` and ``evaluate``: the process exits (compiling the 5-node sample model and
  evaluating 300 samples are a few tens of milliseconds); ``train``: the worker's ``started`` event
  (model built, data loaded, the first batch about to run), i.e. the progress line
  ``training on ...``; ``export``: the worker's first stage after loading TensorFlow and the
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
from collections.abc import Callable
from pathlib import Path

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
            "summary": ([EXE, "summary", project], None),
            "train": (
                [EXE, "train", work, "--epochs", "1"],
                lambda line: line.startswith("training on "),
            ),
            "evaluate": ([EXE, "evaluate", project, "--run", "1"], None),
            "export": (
                [EXE, "export", project, "--target", "keras", "-o", Path(tmp) / "out"]
                + ["--run", "1", "--overwrite"],
                lambda line: line.startswith("  ") and line.strip() not in BEFORE_MODEL,
            ),
        }
        subprocess.run(cases["bare"][0], check=True)  # warm the page cache
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
        verdict = "" if name == "bare" else ("ok" if over <= TARGET_OVERHEAD else "OVER 1.5 s")
        print(f"{name:10s} {first:10.2f} {work_at:10.2f} {over:+10.2f}  {verdict}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
