"""Does a starter template learn its own sample with its defaults? Trains the template through
the workbench (a worker on a thread of this process), with no setting changed, and prints the
validation accuracy of every epoch and the wall time.

Run from the repository root: .venv/bin/python -m bench.template_learning [TEMPLATE ...]
(default: residual_cnn; see bench/README.md for the recorded figures).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.training import start_run
from layerloom.backends.registry import create_backend


def learn(template: str, folder: Path) -> None:
    path = folder / f"{template}.loom"
    create_project(path, template).close()
    backend = create_backend("inprocess", root=folder / "jobs")
    started = time.perf_counter()
    with open_project(path) as opened:
        session = start_run(opened, {"batch_event_every": 1000}, backend=backend)
        for event in session.events(timeout=3600):
            if event["type"] == "epoch":
                metrics = event["metrics"]
                shown = "  ".join(f"{k} {v:.3f}" for k, v in sorted(metrics.items()))
                print(f"{template} epoch {event['epoch']}: {shown}", flush=True)
        session.close()
    print(f"{template}: {session.status} in {time.perf_counter() - started:.1f} s", flush=True)


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for template in argv or ["residual_cnn"]:
            learn(template, Path(folder))


if __name__ == "__main__":
    main(sys.argv[1:])
