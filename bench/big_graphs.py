"""Big-graph benchmarks, offscreen: a 430-node DenseNet121 graph and the 1000-node editor graph
scaled to 3000 nodes. Import + auto-layout, open + first draw, drag and zoom frames, find a node.

Run from the repository root: .venv/bin/python -m bench.big_graphs   (see bench/README.md)
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.graphs import densenet_like, residual_mlp  # noqa: E402
from bench.gui import report  # noqa: E402
from layerloom.app.gui.document import Document  # noqa: E402
from layerloom.app.gui.main_window import MainWindow  # noqa: E402
from layerloom.app.workbench import open_project  # noqa: E402
from layerloom.nodes.layout import layered_positions  # noqa: E402
from layerloom.nodes.project import Project  # noqa: E402
from layerloom.nodes.registry import default_registry  # noqa: E402
from layerloom.nodes.serialize import graph_to_dict  # noqa: E402


def import_densenet(path: Path) -> list[tuple[str, float]]:
    """The importer when it is there, else the generated stand-in: (label, seconds) figures."""
    try:
        from layerloom.app.workbench.importing import import_model
    except ImportError:
        start = time.perf_counter()
        graph = densenet_like(default_registry())
        for node_id, pos in layered_positions(graph, "tb").items():
            graph.move(node_id, pos)
        with Project.create(path) as project:
            project.save_graph(graph_to_dict(graph))
        return [
            ("generated DenseNet121 topology + auto-layout + save", time.perf_counter() - start)
        ]
    start = time.perf_counter()
    import_model("keras.applications.DenseNet121", path, input_shape=(64, 64, 3), classes=10)
    total = time.perf_counter() - start
    with open_project(path, readonly=True) as opened:
        start = time.perf_counter()
        layered_positions(opened.graph, "tb")
        layout = time.perf_counter() - start
        nodes = len(opened.graph)
    return [
        ("import --from DenseNet121, all (worker: TF start, build, parity)", total),
        (f"auto-layout of the imported {nodes} nodes", layout),
    ]


def open_window(app: QApplication, path: Path) -> tuple[float, MainWindow]:
    """Wall seconds to open and draw (the figure); the CPU seconds go to ``CPU`` because on a
    shared 2-core machine the wall time mostly measures the neighbours."""
    start, cpu = time.perf_counter(), time.process_time()
    document = Document.open(path)
    window = MainWindow(document)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.view.viewport().repaint()
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start, window


CPU: list[float] = []


def close(app: QApplication, window: MainWindow) -> None:
    window.document.undo_stack.setClean()
    window.close()
    window.deleteLater()
    # Really gone before the next open: deleteLater waits for an event loop this script never
    # runs, and three live 20,000-item scenes slow every later cyclic GC pass.
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()


def frames(app: QApplication, window: MainWindow, label: str) -> None:
    view = window.view
    ids = list(view.graph_scene.nodes)
    middle = ids[len(ids) // 2]
    view.center_on(middle)
    app.processEvents()
    item = view.graph_scene.nodes[middle]
    start_pos = item.pos()
    drags = []
    for i in range(60):
        t = time.perf_counter()
        item.setPos(start_pos + QPointF(i * 3.0, i * 1.5))
        view.graph_scene.follow_moved_nodes(item)
        view.viewport().repaint()
        drags.append(time.perf_counter() - t)
    report(f"{label}: drag a node (move + repaint), per frame", drags)
    zooms = []
    for step in [view.zoom_out] * 8 + [view.zoom_in] * 8:
        t = time.perf_counter()
        step()
        view.viewport().repaint()
        zooms.append(time.perf_counter() - t)
    report(f"{label}: zoom a step (wheel/keys + repaint), per frame", zooms)
    view.fit()
    fitted = []
    for _ in range(10):
        t = time.perf_counter()
        view.viewport().repaint()
        fitted.append(time.perf_counter() - t)
    report(f"{label}: repaint with the whole graph in view", fitted)
    finds = []
    for node_id in ids[:: max(len(ids) // 10, 1)]:
        name = view.graph_scene.nodes[node_id].name
        t = time.perf_counter()
        view.find_node(name)
        view.viewport().repaint()
        finds.append(time.perf_counter() - t)
    report(f"{label}: find a node by name (select + centre + repaint)", finds)


def bench(app: QApplication, folder: Path) -> None:
    CPU.clear()
    dense = folder / "densenet.loom"
    for how, seconds in import_densenet(dense):
        report(f"DenseNet121: {how}", [seconds])
    opens = []
    for _ in range(3):
        seconds, window = open_window(app, dense)
        opens.append(seconds)
        close(app, window)
    report("DenseNet121: open + draw", opens)
    report("DenseNet121: open + draw (CPU time)", CPU[-3:])
    _, window = open_window(app, dense)
    frames(app, window, "DenseNet121")
    close(app, window)

    registry = default_registry()
    graph, _ = residual_mlp(registry, nodes=3000)
    big = folder / "big3000.loom"
    with Project.create(big) as project:
        project.save_graph(graph_to_dict(graph))
    opens = []
    for _ in range(3):
        seconds, window = open_window(app, big)
        opens.append(seconds)
        close(app, window)
    report(f"{len(graph)} nodes: open + draw", opens)
    report(f"{len(graph)} nodes: open + draw (CPU time)", CPU[-3:])
    _, window = open_window(app, big)
    frames(app, window, f"{len(graph)} nodes")
    close(app, window)


if __name__ == "__main__":
    application = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        bench(application, Path(tmp))
