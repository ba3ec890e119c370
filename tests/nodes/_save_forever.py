"""Helper process for the crash test in test_project.py: save big graphs until it is killed.

Run as ``python _save_forever.py PROJECT FIRST_GENERATION``. It prints ``started`` once the project
is open, then saves ``big_graph(FIRST_GENERATION)``, ``big_graph(FIRST_GENERATION + 1)``, ... in a
loop, each one save (one transaction). The test SIGKILLs it at a random moment.
"""

from __future__ import annotations

import sys

NODES = 1000


def big_graph(generation: int) -> dict:
    """A ~130 kB graph-like dict, new in every generation; the test rebuilds it to compare."""
    ids = [f"g{generation}-n{k}" for k in range(NODES)]
    nodes = {
        node_id: {
            "type": "keras.layers.Dense",
            "params": {"units": (generation * 7 + k) % 512 + 1, "activation": "relu"},
            "pos": [k * 1.5, generation],
        }
        for k, node_id in enumerate(ids)
    }
    edges = [[a, 0, b, 0] for a, b in zip(ids, ids[1:], strict=False)]
    return {"generation": generation, "nodes": nodes, "edges": edges}


def main() -> None:
    from layerloom.nodes.project import Project

    path, first = sys.argv[1], int(sys.argv[2])
    with Project.open(path) as project:
        print("started", flush=True)
        generation = first
        while True:
            project.save_graph(big_graph(generation), f"generation {generation}")
            generation += 1


if __name__ == "__main__":
    main()
