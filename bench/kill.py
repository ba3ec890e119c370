"""The kill test at scale (issue #15): N trials of ``kill -9`` during save, training and export,
each followed by the next start's clean-up and the project's checks (tests/app/kill_harness.py).
Run: .venv/bin/python -m bench.kill [TRIALS] [SEED]   (default 50 trials, seed 15; ~3 min)"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tests.app.kill_harness import Lab, Trial, check, next_start, plan, run_trial, snapshot

KINDS = ("save", "train-cli", "train-worker", "export-cli", "export-worker")


def main(count: int = 50, seed: int = 15) -> int:
    with tempfile.TemporaryDirectory(prefix="layerloom-kill-bench-") as folder:
        lab = Lab(Path(folder))
        lab.setup()
        states = {lab.model: snapshot(lab.model), lab.saves: snapshot(lab.saves)}
        trials = plan(random.Random(seed), count, KINDS)
        failures: dict[str, list[str]] = defaultdict(list)
        started = time.monotonic()
        for n, trial in enumerate(trials, 1):
            run_trial(lab, trial)
            try:
                next_start(lab)
                for path in states:
                    states[path] = check(lab, path, states[path])
            except AssertionError as failure:  # counted, and the next trial starts from here
                failures[trial.kind].append(str(failure).splitlines()[0])
                states = {path: snapshot(path) for path in states}
            print(f"{n:3d} {trial.kind:13s} at {trial.delay:5.2f} s killed={trial.killed}")
        print(f"\n{count} trials, seed {seed}, {time.monotonic() - started:.0f} s\n")
        print("| kill | trials | killed mid-way | project opens, state intact, nothing left |")
        print("|---|---|---|---|")
        for kind in KINDS:
            mine: list[Trial] = [t for t in trials if t.kind == kind]
            killed = sum(t.killed for t in mine)
            ok = len(mine) - len(failures[kind])
            print(f"| {kind} | {len(mine)} | {killed} | {ok}/{len(mine)} |")
        seconds = statistics.median(t.seconds for t in trials)
        print(f"\nmedian trial {seconds:.1f} s; graph versions {len(states[lab.saves]['graphs'])},")
        print(f"runs {len(states[lab.model]['runs'])}, exports {len(states[lab.model]['exports'])}")
        for kind, found in failures.items():
            for line in found:
                print(f"FAILED {kind}: {line}")
        return 1 if any(failures.values()) else 0


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    sys.exit(main(*arguments))
