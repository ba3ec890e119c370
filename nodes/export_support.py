"""Which nodes of a graph cannot go to which export target, known before anyone tries.

The targets declare what they take (``nodes.export_capabilities``); this module walks a graph and
asks that registry about every node, and about the rules over several nodes. The editor shows a
badge on a node that a target refuses; the export use case refuses the whole export up front with a
message naming the node. Pure Python: no TensorFlow, no converter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from layerloom.nodes.analysis import Analysis
from layerloom.nodes.export_capabilities import (
    ExportCapabilities,
    GraphStep,
    NodeFootprint,
    default_capabilities,
)
from layerloom.nodes.graph import Graph
from layerloom.nodes.registry import Registry
from layerloom.nodes.spec import Shape


@dataclass(frozen=True)
class Refusal:
    node_id: str
    node_name: str
    type_id: str
    key: str  # a declared limit key ("tflite.int8")
    reason: str
    target: str  # the key's label ("TF Lite (int8)")
    # True when other nodes decide it (a graph rule): an edit elsewhere can add or clear it.
    spans_nodes: bool = False

    @property
    def message(self) -> str:
        label = self.type_id.rsplit(".", 1)[-1]
        return f"node '{self.node_name}' ({label}) cannot go to {self.target}: {self.reason}"


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
    keys: Iterable[str] | None = None,
    analysis: Analysis | None = None,
    capabilities: ExportCapabilities | None = None,
) -> list[Refusal]:
    """Every (node, key) pair whose node cannot go to that limit key (default: every declared
    key), in the graph's node order."""
    capabilities = capabilities or default_capabilities()
    declared = capabilities.keys()
    keys = declared if keys is None else [k for k in declared if k in set(keys)]
    own = analysis is None
    analysis = analysis or Analysis(graph, registry)
    found: list[Refusal] = []
    try:
        for node in graph.nodes():
            spec = registry.get(node.type_id)
            if spec is None or not capabilities.limited(node.type_id):
                continue
            params = spec.normalize(node.params)
            shapes = _input_shapes(graph, analysis, node.id, registry)
            for key in keys:
                reason = capabilities.refusal(key, node.type_id, params, shapes)
                if reason:
                    found.append(
                        Refusal(
                            node.id, node.name, node.type_id, key, reason, capabilities.label(key)
                        )
                    )
        spanning = capabilities.graph_refusals(graph_steps(graph, registry), keys)
        for node_id, key, reason in spanning:
            node = graph.node(node_id)
            label = capabilities.label(key)
            found.append(Refusal(node.id, node.name, node.type_id, key, reason, label, True))
        if spanning:
            order = {node.id: index for index, node in enumerate(graph.nodes())}
            found.sort(key=lambda refusal: order[refusal.node_id])
    finally:
        if own:
            analysis.close()
    return found


def footprints(graph: Graph, registry: Registry) -> list[NodeFootprint]:
    """Every node's class, input and output shapes and parameter count, for targets' estimates."""
    analysis = Analysis(graph, registry)
    try:
        return [
            NodeFootprint(
                node.name,
                node.type_id.rsplit(".", 1)[-1],
                tuple(_input_shapes(graph, analysis, node.id, registry)),
                analysis.shape(node.id),
                analysis.param_count(node.id) or 0,
            )
            for node in graph.nodes()
        ]
    finally:
        analysis.close()


def graph_steps(graph: Graph, registry: Registry) -> list[GraphStep]:
    """The graph as rules over several nodes read it (normalised params)."""
    steps = []
    for node in graph.nodes():
        spec = registry.get(node.type_id)
        params = spec.normalize(node.params) if spec is not None else node.params
        sources = tuple(edge.src for edge in graph.in_edges(node.id))
        steps.append(
            GraphStep(node.id, node.name, node.type_id.rsplit(".", 1)[-1], sources, params)
        )
    return steps


def graph_rules_apply(graph: Graph, capabilities: ExportCapabilities | None = None) -> bool:
    """Whether a rule over several nodes is in play (say, an Embedding masks padding), so that an
    edit of any node may change another node's refusals."""
    capabilities = capabilities or default_capabilities()
    return capabilities.rules_triggered(
        (node.type_id.rsplit(".", 1)[-1], node.params) for node in graph.nodes()
    )
