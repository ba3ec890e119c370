"""GUI benchmarks, offscreen: start-up, opening a 1000-node graph, node drag and param edit frames.

Run from the repository root: .venv/bin/python -m bench.gui   (see bench/README.md)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.graphs import residual_mlp  # noqa: E402
from layerloom.app.gui.document import Document  # noqa: E402
from layerloom.app.gui.main_window import MainWindow  # noqa: E402
from layerloom.nodes.edits import SetParams  # noqa: E402
from layerloom.nodes.project import Project  # noqa: E402
from layerloom.nodes.registry import default_registry  # noqa: E402
from layerloom.nodes.serialize import graph_to_dict  # noqa: E402


def report(label: str, samples: list[float]) -> None:
    median = statistics.median(samples) * 1000
    print(f"{label:<52} {median:8.1f} ms (min {min(samples) * 1000:.1f}, n={len(samples)})")


def bench_startup() -> None:
    """From process start to the main window shown (the app's own --smoke-test reports it)."""
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "layerloom.app.gui", "--smoke-test"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
        assert result.returncode == 0, result.stderr
        line = next(x for x in result.stdout.splitlines() if "window shown" in x)
        samples.append(float(line.split("window shown in")[1].split("ms")[0]) / 1000)
        _ = time.perf_counter() - start
        assert "tensorflow" not in result.stdout
    report("window shown, from process start", samples)


def bench_big_graph(app: QApplication, folder: Path) -> None:
    registry = default_registry()
    graph, blocks = residual_mlp(registry)
    path = folder / "big.loom"
    with Project.create(path) as project:
        project.save_graph(graph_to_dict(graph))
    edges = sum(1 for _ in graph.edges())

    samples = []
    for _ in range(3):
        start = time.perf_counter()
        document = Document.open(path)
        window = MainWindow(document)
        window.resize(1600, 1000)
        window.show()
        app.processEvents()
        window.view.viewport().repaint()
        samples.append(time.perf_counter() - start)
        document.undo_stack.setClean()
        window.close()
        window.deleteLater()
        app.processEvents()
    report(f"open + draw {len(graph)} nodes / {edges} edges", samples)

    document = Document.open(path)
    window = MainWindow(document)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    view = window.view
    middle = blocks[len(blocks) // 2]
    view.center_on(middle)
    app.processEvents()
    item = view.graph_scene.nodes[middle]
    start_pos = item.pos()

    frames = []
    for i in range(60):
        t = time.perf_counter()
        item.setPos(start_pos + QPointF(i * 3.0, i * 1.5))
        view.viewport().repaint()
        frames.append(time.perf_counter() - t)
    report("drag a node (move + repaint), per frame", frames)

    edits = []
    widths = [32, 64] * 20
    for width in widths:
        t = time.perf_counter()
        params = {**document.graph.node(middle).params, "units": width}
        document.push(SetParams(middle, params))
        app.processEvents()  # the coalesced analysis refresh runs here
        view.viewport().repaint()
        edits.append(time.perf_counter() - t)
    report("param edit (re-infer + refresh + repaint), worst case", edits)

    rate_edits = []
    dropout = document.graph.successors(middle)[0]
    for rate in [0.2, 0.3] * 20:
        t = time.perf_counter()
        document.push(SetParams(dropout, {"rate": rate}))
        app.processEvents()
        view.viewport().repaint()
        rate_edits.append(time.perf_counter() - t)
    report("param edit (Dropout rate, shape unchanged)", rate_edits)
    document.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    application = QApplication.instance() or QApplication(sys.argv)
    bench_startup()
    with tempfile.TemporaryDirectory() as tmp:
        bench_big_graph(application, Path(tmp))
