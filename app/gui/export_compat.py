"""Which export targets the edited graph cannot reach, and because of which nodes, kept up to date.

One ``ExportCompatibility`` per document (``compatibility(document)``), shared by the canvas (a
badge per refused node) and the Problems panel (one line per refusal). The domain decides
(``nodes.export_support.refusals``); this object only decides *when* to ask it: after a coalesced
analysis change, and only when the nodes the change touched include one whose spec declares
export limits, or a rule over several nodes is in play (``graph_rules_apply``). A Dense width edit
in a big graph without limited layers costs a set lookup.

Why not only ``Analysis.changes_since``: a limit may depend on a parameter that changes neither
shape nor parameter count (so the analysis logs nothing), or on an input shape that changed while
the node's own output did not. Graph events (params, edges) and the successors of analysed changes
cover both.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from layerloom.nodes.export_support import TARGET_KEYS, Refusal, graph_rules_apply, refusals

# Short letters per limit key for the canvas badge; the tooltip spells the targets out.
SHORT_NAMES = {
    "tflite": "TFL",
    "tflite.int8": "INT8",
    "tfjs": "JS",
    "serving": "SRV",
    "onnx": "ONNX",
    "keras": "KER",
    "python": "PY",
}


def short_name(key: str) -> str:
    return SHORT_NAMES.get(key, key.split(".")[-1].upper()[:4])


def target_name(key: str) -> str:
    return TARGET_KEYS.get(key, key)


class ExportCompatibility(QObject):
    """``by_node``: node id -> its refusals (only refused nodes). ``changed(ids)`` names the nodes
    whose refusals changed since the last emission."""

    changed = Signal(set)

    def __init__(self, document, parent=None):
        super().__init__(parent if parent is not None else document)
        self.document = document
        self.by_node: dict[str, tuple[Refusal, ...]] = {}
        self.scans = 0  # full graph scans so far; lets tests see that unrelated edits skip them
        self._generation = -1
        self._touched: set[str] = set()  # node ids named by graph events since the last refresh
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.refresh)
        document.changed.connect(self._on_graph_event)
        document.analysis_changed.connect(self._timer.start)
        self.refresh(force=True)

    # --- reading ------------------------------------------------------------------------------
    def refusals(self) -> list[Refusal]:
        """Every refusal of the graph, in the graph's node order."""
        self.refresh()
        return [r for refused in self.by_node.values() for r in refused]

    def node_refusals(self, node_id: str) -> tuple[Refusal, ...]:
        return self.by_node.get(node_id, ())

    def unreachable(self) -> dict[str, list[Refusal]]:
        """Limit key -> the refusals that keep the whole graph from that target."""
        out: dict[str, list[Refusal]] = {}
        for refusal in self.refusals():
            out.setdefault(refusal.key, []).append(refusal)
        return out

    # --- keeping up ---------------------------------------------------------------------------
    def _on_graph_event(self, event) -> None:
        if event.kind == "moved":
            return
        self._touched.add(event.node_id)  # renamed too: refusal messages quote the node's name
        if event.edge is not None:
            self._touched.add(event.edge.dst)  # its input shapes changed

    def _is_limited(self, node_id: str) -> bool:
        graph = self.document.graph
        if node_id not in graph:
            return node_id in self.by_node  # a refused node was removed
        spec = self.document.registry.get(graph.node(node_id).type_id)
        return spec is not None and bool(spec.export_limits)

    def _may_change(self, affected: set[str]) -> bool:
        if any(map(self._is_limited, affected)):
            return True
        # A graph rule (a padding mask) lets an edit anywhere refuse or clear a node downstream.
        shown = any(r.spans_nodes for refused in self.by_node.values() for r in refused)
        return bool(affected) and (shown or graph_rules_apply(self.document.graph))

    def _affected(self) -> set[str] | None:
        """Nodes whose refusals may have changed; None: unknown, rescan everything."""
        analysis = self.document.analysis
        changed = analysis.changes_since(self._generation)
        self._generation = analysis.generation
        if changed is None:
            return None
        graph = self.document.graph
        affected = changed | self._touched
        for node_id in changed:
            if node_id in graph:
                affected.update(graph.successors(node_id))
        return affected

    def refresh(self, force: bool = False) -> None:
        self._timer.stop()
        affected = self._affected()
        self._touched = set()
        if not force and affected is not None and not self._may_change(affected):
            return
        self.scans += 1
        document = self.document
        found: dict[str, list[Refusal]] = {}
        for refusal in refusals(document.graph, document.registry, TARGET_KEYS, document.analysis):
            found.setdefault(refusal.node_id, []).append(refusal)
        new = {node_id: tuple(items) for node_id, items in found.items()}
        ids = {n for n in set(new) | set(self.by_node) if new.get(n) != self.by_node.get(n)}
        self.by_node = new
        if ids:
            self.changed.emit(ids)


def compatibility(document) -> ExportCompatibility:
    """The document's one ExportCompatibility (created on first use, owned by the document)."""
    found = document.findChild(ExportCompatibility)
    return found if found is not None else ExportCompatibility(document)
