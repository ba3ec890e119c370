"""DenseNet121 import + auto-layout, cold worker vs warm worker, side by side.

Run from the repository root: .venv/bin/python -m bench.import_warm [ROUNDS]   (see bench/README.md)

What File ▸ Import… does (``app.workbench.importing.import_model``: a worker builds
``keras.applications.DenseNet121`` with ``weights=None`` at 64x64x3 and 10 classes, converts it to
a graph, checks parity; the project is written) plus the auto-layout of the imported graph
(``nodes.layout.layered_positions``). Each round imports twice: cold (no warm worker: the worker
imports TensorFlow first), then warm (a warm worker started before the click and waited for until
``ready``, as the GUI's is once a project is open or the Import dialog has been up a few seconds).
A third import per round runs on a warm worker while its replacement is held back altogether (the
pool starts it once the taken job's process ends, or ``REFILL_DELAY_S`` later: its TensorFlow import
would compete for the cores); the two warm figures should match.
Figures are medians; the target is < 3 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from layerloom.app.workbench import open_project
from layerloom.app.workbench.importing import import_model
from layerloom.backends.local import LocalBackend, LocalRun
from layerloom.backends.protocol import Job
from layerloom.backends.warm import WARM_POOL
from layerloom.nodes.layout import layered_positions

SOURCE = "keras.applications.DenseNet121"
TARGET = 3.0


class RecordingBackend(LocalBackend):
    """The local backend, remembering its last run (whether a warm worker took it)."""

    last: LocalRun | None = None

    def start(self, job: Job, files: Mapping[str, bytes] | None = None) -> LocalRun:
        self.last = super().start(job, files)
        return self.last


def import_and_layout(path: Path) -> tuple[float, float, bool, int]:
    """(seconds for import + auto-layout, of which the layout, warm?, nodes)."""
    backend = RecordingBackend()
    start = time.perf_counter()
    import_model(SOURCE, path, input_shape=(64, 64, 3), classes=10, backend=backend)
    with open_project(path, readonly=True) as opened:
        laid = time.perf_counter()
        layered_positions(opened.graph, "tb")
        end = time.perf_counter()
        nodes = len(opened.graph)
    assert backend.last is not None
    return end - start, end - laid, backend.last.warm, nodes


def wait_ready(timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = WARM_POOL.current()
        if worker is not None and worker.ready:
            return
        time.sleep(0.05)
    raise RuntimeError("the warm worker did not get ready")


def main(rounds: int) -> None:
    cold: list[float] = []
    warm: list[float] = []
    alone: list[float] = []
    layouts: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            WARM_POOL.shutdown()
            seconds, layout, was_warm, nodes = import_and_layout(Path(tmp) / f"cold{n}.loom")
            assert not was_warm, "the cold round found a warm worker"
            cold.append(seconds)
            layouts.append(layout)
            WARM_POOL.start(device="auto")  # what the GUI document's hold() does
            wait_ready()
            seconds, layout, was_warm, nodes = import_and_layout(Path(tmp) / f"warm{n}.loom")
            assert was_warm, "the warm round did not get the warm worker"
            warm.append(seconds)
            layouts.append(layout)
            # The same, but the replacement warm worker (its TensorFlow import) does not start
            # until the import is done: what it costs the import on a machine with few cores.
            wait_ready()
            refill = WARM_POOL._refill
            WARM_POOL._refill = lambda wait, after=None: None  # type: ignore[method-assign]
            try:
                seconds, _, was_warm, _ = import_and_layout(Path(tmp) / f"alone{n}.loom")
            finally:
                WARM_POOL._refill = refill  # type: ignore[method-assign]
            assert was_warm
            alone.append(seconds)
            print(
                f"round {n + 1}: cold {cold[-1]:.2f} s, warm {warm[-1]:.2f} s, "
                f"warm without the replacement starting {alone[-1]:.2f} s",
                flush=True,
            )
        WARM_POOL.shutdown()
    print(f"DenseNet121 ({nodes} nodes) import + auto-layout, median of {rounds}:")
    print(f"  cold worker: {statistics.median(cold):.2f} s (min {min(cold):.2f})")
    print(f"  warm worker: {statistics.median(warm):.2f} s (min {min(warm):.2f})")
    print(
        f"  warm worker, the replacement not starting meanwhile: "
        f"{statistics.median(alone):.2f} s (min {min(alone):.2f})"
    )
    print(f"  of which auto-layout: {statistics.median(layouts) * 1000:.1f} ms")
    verdict = "meets" if statistics.median(warm) < TARGET else "misses"
    print(f"  warm {verdict} the < {TARGET:.0f} s target")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
