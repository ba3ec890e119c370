"""Example project content shared by the project-file tests and the golden dump."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLDEN_DIR = Path(__file__).parent / "golden"

# The example row in every golden dump; kept here literally so a decoding change cannot hide.
EXAMPLE_GRAPH = {
    "nodes": {
        "input": {"type": "keras.layers.Input", "params": {"shape": [28, 28, 1]}, "pos": [0, 0]},
        "flatten": {"type": "keras.layers.Flatten", "params": {}, "pos": [200, 0]},
        "dense": {
            "type": "keras.layers.Dense",
            "params": {"units": 10, "activation": "softmax"},
            "pos": [400, 0],
        },
    },
    "edges": [["input", 0, "flatten", 0], ["flatten", 0, "dense", 0]],
}
EXAMPLE_SETTING = ("training", {"epochs": 5, "batch_size": 32, "optimizer": "adam"})
EXAMPLE_CREATED_AT = "2025-01-01T00:00:00.000+00:00"


def small_graph(n: int) -> dict:
    return {"nodes": {f"n{k}": {"type": "keras.layers.Dense"} for k in range(n)}, "edges": []}
