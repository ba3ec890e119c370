"""Which nodes of a graph cannot go to which export target, known before anyone tries.

Each node spec lists its limits (``NodeSpec.export_limits``) under the keys below. The editor shows
a badge on a node that a target refuses; the export use case refuses the whole export up front with
a message naming the node. Pure Python: no TensorFlow, no converter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nodes.analysis import Analysis
from nodes.graph import Graph
from nodes.registry import Registry
from nodes.spec import Shape

# Limit keys and the target each one belongs to. "tflite.int8" applies only to full-integer
# TF Lite exports; an exporter says which keys its options bring into play.
TARGET_KEYS: dict[str, str] = {
    "tflite": "TF Lite",
    "tflite.int8": "TF Lite (int8)",
    "tfjs": "TF.js",
    "serving": "TF Serving",
    "onnx": "ONNX",
    "keras": "Keras",
    "python": "Python script",
}


@dataclass(frozen=True)
class Refusal:
    node_id: str
    node_name: str
    type_id: str
    key: str  # a TARGET_KEYS key
    reason: str

    @property
    def message(self) -> str:
        label = self.type_id.rsplit(".", 1)[-1]
        return (
            f"node '{self.node_name}' ({label}) cannot go to {TARGET_KEYS[self.key]}: {self.reason}"
        )


def _input_shapes(
    graph: Graph, analysis: Analysis, node_id: str, registry: Registry
) -> list[Shape]:
    spec = registry.get(graph.node(node_id).type_id)
    edges = graph.in_edges(node_id)
    if spec is not None:
        edges = sorted(edges, key=lambda e: spec.port_order(e.port))
    shapes = [analysis.shape(e.src) for e in edges]
    return [s for s in shapes if s is not None]


def refusals(
    graph: Graph,
    registry: Registry,
    keys: Iterable[str] = TARGET_KEYS,
    analysis: Analysis | None = None,
) -> list[Refusal]:
    """Every (node, key) pair whose node cannot go to that target, in the graph's node order."""
    keys = [k for k in keys if k in TARGET_KEYS]
    own = analysis is None
    analysis = analysis or Analysis(graph, registry)
    found: list[Refusal] = []
    try:
        for node in graph.nodes():
            spec = registry.get(node.type_id)
            if spec is None or not spec.export_limits:
                continue
            params = spec.normalize(node.params)
            shapes = _input_shapes(graph, analysis, node.id, registry)
            for key in keys:
                reason = spec.export_refusal(key, params, shapes)
                if reason:
                    found.append(Refusal(node.id, node.name, node.type_id, key, reason))
    finally:
        if own:
            analysis.close()
    return found
