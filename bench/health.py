"""Training health's overhead: the same run with health sampling on (the default, automatic
interval) and off, side by side, through the orchestrator and a worker subprocess.

The figure is each run's training time as the worker stamps it: from its ``started`` event to its
``finished`` event (every epoch, validation, checkpoints, and with health on the sample batch's
set-up and every sample). Worker start-up (TensorFlow import) is outside it. Rounds alternate which
side goes first; the ratio is median(on) / median(off).

Run from the repository root: .venv/bin/python -m bench.health   (see bench/README.md)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from layerloom.app.workbench import create_project
from layerloom.app.workbench.training import start_run

ROUNDS = 4
# Runs of ~10-15 s of training each on a 2-core CPU: long enough to time, short enough to repeat.
CASES = [("small_cnn", 30), ("mlp_classifier", 300)]


def one_run(template: str, epochs: int, health: bool, folder: Path) -> tuple[float, int]:
    """(training seconds, health samples) of one run."""
    path = folder / f"{template}-{time.monotonic_ns()}.loom"
    with create_project(path, template) as opened:
        session = start_run(opened, {"epochs": epochs, "health": health})
        events = list(session.events())
        session.close()
    assert session.status == "finished", session.error
    started = next(e for e in events if e["type"] == "started")
    seconds = events[-1]["time"] - started["time"]
    return seconds, sum(e["type"] == "health" for e in events)


def main() -> None:
    cases = [case for case in CASES if case[0] in sys.argv[1:]] or CASES
    with tempfile.TemporaryDirectory() as tmp:
        for template, epochs in cases:
            times: dict[bool, list[float]] = {True: [], False: []}
            samples: list[int] = []
            for round_ in range(ROUNDS):
                for health in (True, False) if round_ % 2 == 0 else (False, True):
                    seconds, count = one_run(template, epochs, health, Path(tmp))
                    times[health].append(seconds)
                    if health:
                        samples.append(count)
            on, off = statistics.median(times[True]), statistics.median(times[False])
            print(
                f"{template} ({epochs} epochs, {ROUNDS} rounds): training {off:.2f} s with health "
                f"off, {on:.2f} s on ({statistics.median(samples):.0f} samples a run): "
                f"ratio {on / off:.3f} (on {', '.join(f'{t:.2f}' for t in times[True])}; "
                f"off {', '.join(f'{t:.2f}' for t in times[False])})"
            )


if __name__ == "__main__":
    main()
