"""Which export targets the edited graph cannot reach, and because of which nodes, kept up to date.

One ``ExportCompatibility`` per document (``compatibility(document)``), shared by the canvas (a
badge per refused node) and the Problems panel (one line per refusal). The domain decides
(``nodes.export_support.refusals``, over the targets' declarations in
``nodes.export_capabilities``); this object only decides *when* to ask it: after a coalesced
analysis change, and only when the nodes the change touched include one of a type some target
declares limits for, or a rule over several nodes is in play (``graph_rules_apply``). A Dense width edit
in a big graph without limited layers costs a set lookup.

Why not only ``Analysis.changes_since``: a limit may depend on a parameter that changes neither
shape nor parameter count (so the analysis logs nothing), or on an input shape that changed while
the node's own output did not. Graph events (params, edges) and the successors of analysed changes
cover both.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from layerloom.nodes.export_capabilities import default_capabilities
from layerloom.nodes.export_support import Refusal, graph_rules_apply, refusals


def short_name(key: str) -> str:
    """The canvas badge's letters for a limit key, as its target declares them; the tooltip
    spells the target out."""
    return default_capabilities().badge(key)


class ExportCompatibility(QObject):
    """``by_node``: node id -> its refusals (only refused nodes). ``changed(ids)`` names the nodes
    whose refusals changed since the last emission."""

    changed = Signal(set)

    def __init__(self, document, parent=None, capabilities=None):
        super().__init__(parent if parent is not None else document)
        self.document = document
        self.capabilities = capabilities or default_capabilities()
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
        return self.capabilities.limited(graph.node(node_id).type_id)

    def _may_change(self, affected: set[str]) -> bool:
        if any(map(self._is_limited, affected)):
            return True
        # A graph rule (a padding mask) lets an edit anywhere refuse or clear a node downstream.
        shown = any(r.spans_nodes for refused in self.by_node.values() for r in refused)
        return bool(affected) and (
            shown or graph_rules_apply(self.document.graph, self.capabilities)
        )

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
        for refusal in refusals(
            document.graph, document.registry, None, document.analysis, self.capabilities
        ):
            found.setdefault(refusal.node_id, []).append(refusal)
        new = {node_id: tuple(items) for node_id, items in found.items()}
        ids = {n for n in set(new) | set(self.by_node) if new.get(n) != self.by_node.get(n)}
        self.by_node = new
        if ids:
            self.changed.emit(ids)


def compatibility(document, capabilities=None) -> ExportCompatibility:
    """The document's one ExportCompatibility (created on first use, owned by the document; over
    ``capabilities`` when given then, else the registered targets' declarations)."""
    found = document.findChild(ExportCompatibility)
    return found if found is not None else ExportCompatibility(document, None, capabilities)
