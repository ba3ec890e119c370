"""Live analysis of a graph: shapes, parameter counts and every problem, kept up to date incrementally.

``Analysis`` observes a Graph. An edit marks only the touched node dirty; recomputation walks
downstream in topological order and stops where a node's result did not change (a Dropout rate edit
re-infers one node, a Dense width edit re-infers up to the next layer whose output is unchanged).
Problems are collected per node, never raised: a graph with five mistakes shows five.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import networkx as nx

from layerloom.nodes.errors import ShapeError
from layerloom.nodes.graph import Graph, GraphEvent, Node
from layerloom.nodes.registry import Registry
from layerloom.nodes.spec import NodeSpec, Shape

STRUCTURAL = {"node_added", "node_removed", "edge_added", "edge_removed"}
# The memory budget of one model (issue 15): 2^31 parameters, 8 GiB of float32 weights before the
# optimizer's slots and activations. Beyond it Keras would try to allocate the weights in `summary`
# or `train` and die; analysis refuses it first, from the parameter counts alone (no TensorFlow).
MAX_PARAMETERS = 1 << 31


@dataclass(frozen=True)
class Problem:
    node_id: str | None  # None for problems of the whole graph
    kind: str  # cycle, missing_input, arity, shape, param, unknown_type, name, unused, no_input,
    # memory
    message: str


@dataclass(frozen=True)
class NodeResult:
    shape: Shape | None
    params: int | None
    problems: tuple[Problem, ...] = ()


class Analysis:
    def __init__(self, graph: Graph, registry: Registry) -> None:
        self.graph = graph
        self.registry = registry
        self.recomputed = 0  # nodes re-inferred so far; lets tests and benchmarks see it
        self._results: dict[str, NodeResult] = {}
        # Whole-graph checks are linear, so they are cached and redone only when their inputs change.
        self._graph_cache: list[Problem] = []  # no Input, unused inputs: redone on structure edits
        self._graph_stale = True
        self._name_cache: list[Problem] = []  # bad or duplicate names: redone on add/remove/rename
        self._names_stale = True
        self._problems_cache: list[Problem] | None = None
        self._whole_cache: list[Problem] | None = None  # graph-wide problems, same lifetime
        # Ids whose result or name problems changed, in order; views read it with changes_since().
        self._change_log: list[str] = []
        self._log_offset = 0
        self._dirty: set[str] = {n.id for n in graph.nodes()}
        self._order: dict[str, int] | None = None
        self._cyclic: set[str] = set()
        graph.subscribe(self._on_event)

    def close(self) -> None:
        self.graph.unsubscribe(self._on_event)

    # --- queries -----------------------------------------------------------------------------
    def result(self, node_id: str) -> NodeResult:
        self._refresh()
        return self._results[node_id]

    def shape(self, node_id: str) -> Shape | None:
        return self.result(node_id).shape

    def param_count(self, node_id: str) -> int | None:
        return self.result(node_id).params

    @property
    def total_params(self) -> int:
        self._refresh()
        return sum(r.params or 0 for r in self._results.values())

    def problems(self) -> list[Problem]:
        self._refresh()
        if self._problems_cache is None:
            order = self.topological_order()
            found = [p for node_id in order for p in self._results[node_id].problems]
            graph_wide = self._graph_problems() + self._memory_problems()
            self._problems_cache = graph_wide + found + self._name_problems()
        return list(self._problems_cache)

    def node_problems(self, node_id: str) -> list[Problem]:
        result = self.result(node_id)
        # Cached until the next event: the canvas asks for every node of a 3000-node graph, and
        # the graph-wide checks are linear, so uncached this was quadratic (bench/big_graphs.py).
        if self._whole_cache is None:
            whole = self._graph_problems() + self._memory_problems() + self._name_problems()
            self._whole_cache = whole
        return list(result.problems) + [p for p in self._whole_cache if p.node_id == node_id]

    def _memory_problems(self) -> list[Problem]:
        """The model over the memory budget, pinned on its biggest node (where to look first).
        A sum over the cached counts: linear, and only asked for when problems are."""
        counts = {n: r.params for n, r in self._results.items() if r.params}
        total = sum(counts.values())
        if total <= MAX_PARAMETERS:
            return []
        biggest = max(counts, key=counts.__getitem__)
        message = (
            f"the model would have {total:,} parameters ({_gib(total)} of float32 weights), over"
            f" the limit of {MAX_PARAMETERS:,} ({_gib(MAX_PARAMETERS)}); this node has"
            f" {counts[biggest]:,} of them: make it smaller"
        )
        return [Problem(biggest, "memory", message)]

    @property
    def generation(self) -> int:
        """A counter that grows whenever some node's result or problems change."""
        self._refresh()
        self._name_problems()
        self._graph_problems()
        return self._log_offset + len(self._change_log)

    def changes_since(self, generation: int) -> set[str] | None:
        """Ids of nodes whose shape, count or problems changed after ``generation`` (read it from
        ``generation`` first); None when that is too old to know, meaning "assume all"."""
        current = self.generation
        if generation < self._log_offset:
            return None
        return set(self._change_log[generation - self._log_offset : current - self._log_offset])

    def _log_changes(self, node_ids: set[str] | list[str]) -> None:
        self._change_log.extend(node_ids)
        if len(self._change_log) > 100_000:  # bound memory; readers that far behind refresh all
            self._log_offset += len(self._change_log)
            self._change_log.clear()

    def topological_order(self) -> list[str]:
        order = self._topo_order()
        return sorted(order, key=order.__getitem__)

    @property
    def is_valid(self) -> bool:
        return not self.problems()

    # --- incremental machinery ---------------------------------------------------------------
    def _on_event(self, event: GraphEvent) -> None:
        if event.kind == "moved":
            return
        self._problems_cache = None
        self._whole_cache = None
        if event.kind in STRUCTURAL:
            self._order = None
            self._graph_stale = True
        if event.kind in ("node_added", "node_removed", "renamed"):
            self._names_stale = True
        if event.kind == "node_removed":
            self._results.pop(event.node_id, None)
            self._dirty.discard(event.node_id)
        elif event.kind == "renamed":
            return
        else:
            self._dirty.add(event.node_id)

    def _topo_order(self) -> dict[str, int]:
        if self._order is None:
            g = self.graph.nx_graph
            try:
                order = list(nx.topological_sort(g))
                self._cyclic = set()
            except nx.NetworkXUnfeasible:
                sccs = list(nx.strongly_connected_components(g))
                self._cyclic = {n for c in sccs if len(c) > 1 for n in c}
                self._cyclic |= {n for n in g if g.has_edge(n, n)}
                condensed = nx.condensation(g, sccs)
                order = [
                    n for c in nx.topological_sort(condensed) for n in condensed.nodes[c]["members"]
                ]
            self._order = {node_id: i for i, node_id in enumerate(order)}
            # A cycle appearing or disappearing changes the nodes on it.
            self._dirty |= self._cyclic | {n for n in self._results if n not in self._order}
        return self._order

    def _refresh(self) -> None:
        if not self._dirty:
            return
        order = self._topo_order()
        heap = [(order[n], n) for n in self._dirty if n in order]
        heapq.heapify(heap)
        queued = {n for _, n in heap}
        self._dirty.clear()
        while heap:
            _, node_id = heapq.heappop(heap)
            queued.discard(node_id)
            before = self._results.get(node_id)
            after = self._compute(self.graph.node(node_id))
            self._results[node_id] = after
            self.recomputed += 1
            if after != before:
                self._log_changes([node_id])
            if before is not None and (before.shape, bool(before.problems)) == (
                after.shape,
                bool(after.problems),
            ):
                continue  # early cutoff: nothing downstream can change
            for succ in self.graph.successors(node_id):
                if succ not in queued:
                    queued.add(succ)
                    heapq.heappush(heap, (order[succ], succ))

    # --- one node ----------------------------------------------------------------------------
    def _compute(self, node: Node) -> NodeResult:
        spec = self.registry.get(node.type_id)
        if spec is None:
            message = (
                f"unknown node type {node.type_id!r} (is the plugin that provides it installed?); "
                "its parameters are kept"
            )
            return NodeResult(None, None, (Problem(node.id, "unknown_type", message),))
        problems = [Problem(node.id, "param", m) for m in spec.check_params(node.params)]
        if node.id in self._cyclic:
            problems.append(Problem(node.id, "cycle", "is part of a cycle"))
            return NodeResult(None, None, tuple(problems))
        shapes, input_problems, upstream_ok = self._input_shapes(node, spec)
        problems += input_problems
        if problems or not upstream_ok:
            return NodeResult(None, None, tuple(problems))
        params = spec.normalize(node.params)
        try:
            shape = tuple(spec.infer(params, shapes))
        except ShapeError as error:
            return NodeResult(None, None, (Problem(node.id, "shape", str(error)),))
        return NodeResult(shape, spec.count_params(params, shapes))

    def _input_shapes(self, node: Node, spec: NodeSpec) -> tuple[list[Shape], list[Problem], bool]:
        """Input shapes in port order, problems with the wiring, and whether all upstream is sound."""
        edges = sorted(self.graph.in_edges(node.id), key=lambda e: spec.port_order(e.port))
        problems: list[Problem] = []
        if spec.variadic_inputs:
            count = len(edges)
            if count < spec.min_inputs:
                problems.append(
                    Problem(
                        node.id, "arity", f"needs at least {spec.min_inputs} inputs, has {count}"
                    )
                )
            if spec.max_inputs is not None and count > spec.max_inputs:
                problems.append(
                    Problem(
                        node.id, "arity", f"takes at most {spec.max_inputs} inputs, has {count}"
                    )
                )
        else:
            connected = {e.port for e in edges}
            for port in spec.inputs:
                if not port.optional and port.name not in connected:
                    problems.append(
                        Problem(node.id, "missing_input", f"input {port.name!r} is not connected")
                    )
        shapes = [self._results.get(e.src, NodeResult(None, None)).shape for e in edges]
        upstream_ok = all(s is not None for s in shapes)
        return [s for s in shapes if s is not None], problems, upstream_ok

    # --- whole-graph checks ------------------------------------------------------------------
    def _graph_problems(self) -> list[Problem]:
        if self._graph_stale:
            self._graph_stale = False
            self._graph_cache = self._replace(self._graph_cache, self._find_graph_problems())
        return self._graph_cache

    def _name_problems(self) -> list[Problem]:
        if self._names_stale:
            self._names_stale = False
            self._name_cache = self._replace(self._name_cache, self._find_name_problems())
        return self._name_cache

    def _replace(self, old: list[Problem], new: list[Problem]) -> list[Problem]:
        changed = {p.node_id for p in set(old) ^ set(new) if p.node_id is not None}
        self._log_changes(changed)
        return new

    def _find_graph_problems(self) -> list[Problem]:
        if len(self.graph) == 0:
            return [Problem(None, "no_input", "the graph is empty: add an Input node")]
        inputs = [n for n in self.graph.nodes() if self._is_input(n)]
        problems = []
        if not inputs:
            problems.append(Problem(None, "no_input", "the graph has no Input node"))
        for node in inputs:
            if not self.graph.out_edges(node.id):
                problems.append(Problem(node.id, "unused", "input is not connected to anything"))
        return problems

    def _find_name_problems(self) -> list[Problem]:
        by_name: dict[str, list[str]] = {}
        for node in self.graph.nodes():
            by_name.setdefault(node.name, []).append(node.id)
        problems = []
        for name, ids in by_name.items():
            if not name.strip() or not name.replace("_", "a").replace("-", "a").isalnum():
                problems += [
                    Problem(i, "name", f"name {name!r} must be letters, digits, '_' or '-'")
                    for i in ids
                ]
            elif len(ids) > 1:
                problems += [
                    Problem(i, "name", f"name {name!r} is used by {len(ids)} nodes") for i in ids
                ]
        return problems

    def _is_input(self, node: Node) -> bool:
        spec = self.registry.get(node.type_id)
        return spec is not None and spec.is_input

    def outputs(self) -> list[str]:
        """Model outputs: nodes nothing consumes, excluding unconnected inputs (in topo order)."""
        order = self._topo_order()
        sinks = [
            n.id
            for n in self.graph.nodes()
            if not self.graph.out_edges(n.id) and not self._is_input(n)
        ]
        return sorted(sinks, key=order.__getitem__)


def _gib(parameters: int) -> str:
    return f"{parameters * 4 / (1 << 30):,.0f} GiB"
