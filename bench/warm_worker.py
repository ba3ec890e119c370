"""Click to first event, warm vs cold: the time from the call that starts a training job
(``app.workbench.training.start_run``, what the GUI's Train button calls) to the worker's
``started`` event, once on a cold worker and once on a warm one (``backends.warm``), side by side.

Run from the repository root: .venv/bin/python -m bench.warm_worker [ROUNDS]   (see bench/README.md)

Each round trains the ``mlp_classifier`` template for one epoch twice: cold (no warm worker), then
warm (a warm worker started before and waited for until ``ready``, as the GUI's is by the time a
user has opened a project and clicked Train). Figures are medians; the target is <= 1 s warm.
Then the same for Export (``app.workbench.exporting.start_export``, what the Export dialog's button
calls, keras target, to the worker's second ``progress`` event, "reading the parity batch": the
first comes before Keras is imported, the second once the model is loaded), cold vs on the warm
export worker (``export_process.EXPORT_POOL``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.export_process import EXPORT_POOL
from layerloom.app.workbench.exporting import prepare_export, start_export
from layerloom.app.workbench.training import start_run
from layerloom.backends.warm import WARM_POOL

SETTINGS = {"epochs": 1, "batch_size": 32}
TARGET_WARM = 1.0


def first_event_seconds(project: Path) -> tuple[float, bool]:
    """(seconds from start_run to ``started``, whether a warm worker took the job)."""
    with open_project(project) as opened:
        start = time.perf_counter()
        session = start_run(opened, SETTINGS)
        try:
            for event in session.events(timeout=300):
                if event["type"] == "started":
                    seconds = time.perf_counter() - start
                    break
            else:
                raise RuntimeError(f"no started event: {session.error}")
            session.wait()
        finally:
            session.close()
        return seconds, bool(getattr(session.handle, "warm", False))


def export_first_progress_seconds(project: Path, out: Path) -> tuple[float, bool]:
    """(seconds from start_export to the model-loaded ``progress`` event, whether it ran warm)."""
    with open_project(project) as opened:
        prepared = prepare_export(opened, "keras", out, overwrite=True)
        start = time.perf_counter()
        session = start_export(prepared)
        try:
            for event in session.events():
                if event["type"] == "progress" and "parity" in event.get("message", ""):
                    seconds = time.perf_counter() - start
                    break
            else:
                raise RuntimeError(f"no progress event: {session.outcome}")
            session.wait()
        finally:
            session.close()
        return seconds, session.warm is not None


def wait_ready(timeout: float = 120.0, pool=WARM_POOL) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = pool.current()
        if worker is not None and worker.ready:
            return
        time.sleep(0.05)
    raise RuntimeError("the warm worker did not get ready")


def main(rounds: int = 3) -> None:
    project = Path(tempfile.mkdtemp(prefix="layerloom-bench-warm-")) / "bench.loom"
    create_project(project, "mlp_classifier").close()
    cold, warm = [], []
    for _ in range(rounds):
        WARM_POOL.shutdown()
        seconds, was_warm = first_event_seconds(project)
        assert not was_warm
        cold.append(seconds)
        WARM_POOL.start(wait=True)
        wait_ready()
        seconds, was_warm = first_event_seconds(project)
        assert was_warm
        warm.append(seconds)
        WARM_POOL.shutdown()
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"rounds: {rounds}")
    print(f"cold: {cold_s:.2f} s  ({', '.join(f'{s:.2f}' for s in cold)})")
    print(f"warm: {warm_s:.2f} s  ({', '.join(f'{s:.2f}' for s in warm)})")
    print(f"cold / warm: {cold_s / warm_s:.1f}x")
    verdict = "within" if warm_s <= TARGET_WARM else "OVER"
    print(f"warm target <= {TARGET_WARM:.1f} s: {verdict}")
    out = project.parent / "export"
    cold, warm = [], []
    for _ in range(rounds):
        EXPORT_POOL.shutdown()
        seconds, was_warm = export_first_progress_seconds(project, out)
        assert not was_warm
        cold.append(seconds)
        EXPORT_POOL.start(wait=True)
        wait_ready(pool=EXPORT_POOL)
        seconds, was_warm = export_first_progress_seconds(project, out)
        assert was_warm
        warm.append(seconds)
        EXPORT_POOL.shutdown()
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"export to model loaded, cold: {cold_s:.2f} s  ({', '.join(f'{s:.2f}' for s in cold)})")
    print(f"export to model loaded, warm: {warm_s:.2f} s  ({', '.join(f'{s:.2f}' for s in warm)})")
    verdict = "within" if warm_s <= TARGET_WARM else "OVER"
    print(f"export warm target <= {TARGET_WARM:.1f} s: {verdict}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
