"""Which nodes of a graph cannot go to which export target, known before anyone tries.

Each node spec lists its limits (``NodeSpec.export_limits``) under the keys below. The editor shows
a badge on a node that a target refuses; the export use case refuses the whole export up front with
a message naming the node. Pure Python: no TensorFlow, no converter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from layerloom.nodes.analysis import Analysis
from layerloom.nodes.graph import Graph
from layerloom.nodes.registry import Registry
from layerloom.nodes.spec import Shape

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


# Padding masks (Embedding mask_zero=True): TF.js applies them like Keras in unidirectional
# recurrent layers and drops them where Keras does too; elsewhere (GlobalAveragePooling1D,
# Bidirectional, attention) it ignores or misapplies them. Whether a node is refused depends on
# what lies upstream of it, so this is a rule over the graph, not a spec's limit.
MASK_CONSUMERS = {"LSTM", "GRU", "SimpleRNN"}
MASK_DROPPERS = {"Flatten", "GlobalMaxPooling1D", "GlobalMaxPooling2D"}
MASK_CARRIERS = {"Dense", "Dropout", "Activation", "ReLU", "LeakyReLU", "LayerNormalization"}


@dataclass(frozen=True)
class MaskStep:
    """One layer as the mask rule sees it; graphs and build plans both describe themselves so."""

    key: str  # unique per step: a node id or a layer name
    kind: str  # the Keras class name
    sources: tuple[str, ...]  # the keys of the steps feeding it
    masks_zero: bool = False
    returns_sequences: bool = False


def unfaithful_masks(steps: Iterable[MaskStep]) -> list[tuple[MaskStep, MaskStep]]:
    """(reader, embedding) for every step whose padding mask TF.js would mishandle."""
    steps = list(steps)
    readers: dict[str, list[MaskStep]] = {}
    for step in steps:
        for source in step.sources:
            readers.setdefault(source, []).append(step)
    found: list[tuple[MaskStep, MaskStep]] = []
    for embedding in steps:
        if embedding.kind != "Embedding" or not embedding.masks_zero:
            continue
        masked, seen = [embedding.key], set()
        while masked:
            for reader in readers.get(masked.pop(), []):
                if reader.key in seen:
                    continue
                seen.add(reader.key)
                if reader.kind in MASK_DROPPERS or (
                    reader.kind in MASK_CONSUMERS and not reader.returns_sequences
                ):
                    continue
                if reader.kind in MASK_CONSUMERS or reader.kind in MASK_CARRIERS:
                    masked.append(reader.key)
                else:
                    found.append((reader, embedding))
    return found


def mask_reason(embedding_name: str) -> str:
    return (
        f"TF.js does not apply the padding mask of '{embedding_name}' (Embedding mask_zero=True) "
        "here as Keras does"
    )


@dataclass(frozen=True)
class Refusal:
    node_id: str
    node_name: str
    type_id: str
    key: str  # a TARGET_KEYS key
    reason: str
    # True when other nodes decide it (a graph rule): an edit elsewhere can add or clear it.
    spans_nodes: bool = False

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
        if "tfjs" in keys:
            found += _mask_refusals(graph, registry)
            order = {node.id: index for index, node in enumerate(graph.nodes())}
            found.sort(key=lambda refusal: order[refusal.node_id])
    finally:
        if own:
            analysis.close()
    return found


def _mask_refusals(graph: Graph, registry: Registry) -> list[Refusal]:
    steps = []
    for node in graph.nodes():
        spec = registry.get(node.type_id)
        params = spec.normalize(node.params) if spec is not None else node.params
        steps.append(
            MaskStep(
                node.id,
                node.type_id.rsplit(".", 1)[-1],
                tuple(edge.src for edge in graph.in_edges(node.id)),
                bool(params.get("mask_zero")),
                bool(params.get("return_sequences")),
            )
        )
    refused = []
    for reader, embedding in unfaithful_masks(steps):
        node = graph.node(reader.key)
        reason = mask_reason(graph.node(embedding.key).name)
        refused.append(Refusal(node.id, node.name, node.type_id, "tfjs", reason, spans_nodes=True))
    return refused


def graph_rules_apply(graph: Graph) -> bool:
    """Whether a rule over several nodes is in play (an Embedding masks padding), so that an edit
    of any node may change another node's refusals."""
    return any(
        node.type_id.endswith(".Embedding") and node.params.get("mask_zero")
        for node in graph.nodes()
    )
