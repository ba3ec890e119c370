"""Foundation benchmarks: CLI start-up, shape inference and project save/open on 1000 nodes.

Run from the repository root: .venv/bin/python -m bench.foundation   (see bench/README.md)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.graphs import residual_mlp
from layerloom.nodes.analysis import Analysis
from layerloom.nodes.edits import SetParams
from layerloom.nodes.project import Project
from layerloom.nodes.registry import default_registry
from layerloom.nodes.serialize import graph_from_dict, graph_to_dict


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.2f} ms (min {min(samples) * 1000:.2f}, n={len(samples)})"


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def bench_help() -> None:
    exe = Path(sys.executable).parent / "layerloom"
    run = lambda: subprocess.run([exe, "--help"], check=True, capture_output=True)  # noqa: E731
    run()  # warm the page cache
    print(f"layerloom --help wall time           {median_ms(timed(run, 15))}")


def bench_inference(registry) -> None:
    graph, blocks = residual_mlp(registry)
    edges = sum(1 for _ in graph.edges())
    print(f"graph: {len(graph)} nodes, {edges} edges")

    def full() -> None:
        analysis = Analysis(graph, registry)
        analysis.problems()
        analysis.close()

    print(f"full shape inference + validation    {median_ms(timed(full, 20))}")

    analysis = Analysis(graph, registry)
    analysis.problems()
    middle = blocks[len(blocks) // 2]
    rates = iter([0.2, 0.3] * 100)
    widths = iter([32, 64] * 100)

    def edit_rate() -> None:  # shape unchanged: only the node itself is re-inferred
        dropout = graph.successors(middle)[0]
        SetParams(dropout, {"rate": next(rates)}).apply(graph)
        analysis.problems()

    def edit_width() -> None:  # shape changes: re-inference runs until the next unchanged output
        SetParams(middle, {**graph.node(middle).params, "units": next(widths)}).apply(graph)
        analysis.problems()

    print(f"incremental: Dropout rate edit        {median_ms(timed(edit_rate, 50))}")
    print(f"incremental: Dense width edit         {median_ms(timed(edit_width, 50))}")
    print("  (a width edit in a residual chain breaks every later Add: a worst case, kept honest)")


def bench_project_io(registry) -> None:
    graph, _ = residual_mlp(registry)
    data = graph_to_dict(graph)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.loom"
        project = Project.create(path)
        counter = iter(range(10_000))

        def save() -> None:
            data["nodes"][0]["pos"] = [float(next(counter)), 0.0]  # a real change: a new version
            project.save_graph(data)

        print(f"save 1000-node graph (new version)   {median_ms(timed(save, 20))}")
        project.close()

        def open_and_load() -> None:
            with Project.open(path) as opened:
                _, loaded = opened.latest_graph()
            graph_from_dict(loaded, registry)

        print(f"open project + load 1000-node graph  {median_ms(timed(open_and_load, 20))}")


if __name__ == "__main__":
    registry = default_registry()
    bench_help()
    bench_inference(registry)
    bench_project_io(registry)
