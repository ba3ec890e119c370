"""Connecting ports: the rules that say whether a wire may be dropped (and why not), and the wire
controller that runs a drag from a port to a port.

The rules only read the graph and the live analysis. Shapes are checked with the destination spec's
pure ``infer`` on the candidate input shapes, never by applying a trial ``Connect``: the scene must
not mutate the graph outside of an undoable edit.

Drags:
- from an output port: forward, the targets are input ports (or a node's card: its free port);
- from a connected input port: picks that edge up; dropping it elsewhere re-routes it, dropping it
  on empty canvas disconnects it;
- from a free input port: backward, the targets are output ports (or any node's card).
"""

from dataclasses import dataclass

from PySide6.QtCore import QRectF

from layerloom.app.gui.canvas.edges import HintItem, WireItem
from layerloom.app.gui.canvas.items import NodeItem, PortItem
from layerloom.nodes.edits import Composite, Connect, Disconnect
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.graph import Edge
from layerloom.nodes.spec import format_shape

CATCH_RADIUS = 8.0  # scene units around the cursor that still count as "on the port"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str  # why not, or what the connection will do
    shape: tuple | None = None  # the destination's output shape after connecting, when known


def check_connection(document, src_id, dst_id, port, ignore=None):
    """May ``src_id``'s output feed input ``port`` of ``dst_id``? ``ignore``: an edge being moved."""
    graph, registry = document.graph, document.registry
    src, dst = graph.node(src_id), graph.node(dst_id)
    spec = registry.get(dst.type_id)
    if src_id == dst_id:
        return Verdict(False, "would create a cycle: a layer cannot feed itself")
    if port is None:
        if spec is not None and not spec.input_ports(0):
            return Verdict(False, f"{dst.name} takes no inputs")
        return Verdict(False, f"every input of {dst.name} is taken; drop on a port to replace one")
    if graph.has_path(dst_id, src_id):
        return Verdict(False, f"would create a cycle: {dst.name} already feeds {src.name}")
    if spec is None:
        return Verdict(False, f"{dst.name} has an unknown type ({dst.type_id})")
    if not spec.accepts_port(port):
        return Verdict(False, f"{dst.name} has no input {port!r}")
    occupant = graph.edge_into(dst_id, port)
    if occupant is not None and occupant != ignore and occupant.src == src_id:
        return Verdict(False, f"{src.name} is already connected to {dst.name}.{port}")
    problem, shape = _shape_check(document, spec, dst, port, src_id, ignore)
    if problem:
        return Verdict(False, f"incompatible shape: {problem}")
    note = f"connect {src.name} → {dst.name}.{port}"
    if occupant is not None and occupant != ignore:
        note += f" (replaces {graph.node(occupant.src).name})"
    if shape is not None:
        note += f"\noutput {format_shape(shape)}"
    return Verdict(True, note, shape)


def _shape_check(document, spec, dst, port, src_id, ignore):
    """(problem, resulting shape); (None, None) when the inputs are not all known yet."""
    analysis, graph = document.analysis, document.graph
    src_shape = analysis.shape(src_id)
    if src_shape is None or spec.check_params(dst.params):
        return None, None
    inputs = {e.port: e.src for e in graph.in_edges(dst.id) if e != ignore}
    inputs[port] = src_id
    if spec.variadic_inputs:
        if len(inputs) < spec.min_inputs:
            return None, None  # the rule needs all of them; the missing ones are not a refusal
    else:
        required = {p.name for p in spec.inputs if not p.optional}
        if not required <= inputs.keys():
            return None, None
    try:
        ordered = sorted(inputs, key=spec.port_order)
    except ValueError:
        return None, None  # a stray port from an old file: leave it to the problems panel
    shapes = []
    for name in ordered:
        shape = src_shape if name == port else analysis.shape(inputs[name])
        if shape is None:
            return None, None
        shapes.append(shape)
    try:
        return None, tuple(spec.infer(spec.normalize(dst.params), shapes))
    except ShapeError as error:
        return str(error), None
    except Exception:  # a rule that cannot judge partial input is not a reason to refuse
        return None, None


def connection_edit(graph, edge, detached=None):
    """The edit for dropping ``edge``: replaces an occupant and moves a picked-up edge in one step."""
    edits = []
    if detached is not None:
        edits.append(Disconnect(detached))
    occupant = graph.edge_into(edge.dst, edge.port)
    if occupant is not None and occupant != detached:
        edits.append(Disconnect(occupant))
    edits.append(Connect(edge))
    if len(edits) == 1:
        return edits[0]
    return Composite(edits, text="Reconnect" if detached is not None else "Replace connection")


class WireController:
    """Runs one wire drag at a time for a GraphScene; ports forward their mouse events here."""

    def __init__(self, scene):
        self.scene = scene
        self.anchor_port = None  # the fixed end of the wire
        self.forward = True  # True: the fixed end is an output, targets are inputs
        self.detached = None  # an existing edge picked up from its input port
        self.target = None  # (node_item, port name or None)
        self.verdict = None
        self.last_reason = ""  # the last hint shown; tests and the status bar read it
        self._wire = None
        self._hint = None
        self._lit_port = None

    @property
    def active(self):
        return self.anchor_port is not None

    def begin(self, port, scene_pos):
        self.cancel()
        graph = self.scene.document.graph
        self.detached = None
        if port.is_output:
            self.anchor_port, self.forward = port, True
        else:
            edge = graph.edge_into(port.node_id, port.name)
            if edge is not None:
                self.detached = edge
                self.anchor_port = self.scene.nodes[edge.src].output
                self.forward = True
                self.scene.edges[(edge.src, edge.dst, edge.port)].setVisible(False)
            else:
                self.anchor_port, self.forward = port, False
        theme = self.scene.theme
        self._wire = WireItem(theme)
        self._hint = HintItem(theme)
        self.scene.addItem(self._wire)
        self.scene.addItem(self._hint)
        self.move(scene_pos)

    def move(self, scene_pos):
        if not self.active:
            return
        self.target = self._find_target(scene_pos)
        self.verdict = self._judge(self.target)
        state = None if self.verdict is None else ("ok" if self.verdict.ok else "refused")
        self._light(self.target, state)
        end = scene_pos
        if self.target is not None and self.target[1] is not None:
            end = self._target_anchor(self.target)
        fixed = self.anchor_port.anchor()
        if self.forward:
            self._wire.set_ends(fixed, end, state)
        else:
            self._wire.set_ends(end, fixed, state)
        if self.verdict is None:
            text = "release on empty canvas to disconnect" if self.detached else ""
        else:
            text = ("✓ " if self.verdict.ok else "✗ ") + self.verdict.reason
        if text:
            self.last_reason = text
        self._hint.set_text(text, state)
        self._hint.setPos(scene_pos)

    def finish(self, scene_pos):
        if not self.active:
            return
        self.move(scene_pos)
        target, verdict, detached = self.target, self.verdict, self.detached
        edge = self._edge_for(target) if target is not None else None
        self.cancel()
        document = self.scene.document
        if verdict is None:
            if detached is not None:
                document.push(Disconnect(detached))
            return
        if edge is not None and edge == detached:
            return  # dropped back where it came from
        if not verdict.ok:
            self.scene.message.emit(f"Cannot connect: {verdict.reason}")
            return
        document.push(connection_edit(document.graph, edge, detached))

    def cancel(self):
        if self._wire is not None:
            self.scene.removeItem(self._wire)
            self.scene.removeItem(self._hint)
        self._wire = self._hint = None
        self._light(None, None)
        if self.detached is not None:
            item = self.scene.edges.get((self.detached.src, self.detached.dst, self.detached.port))
            if item is not None:
                item.setVisible(True)
        self.detached = None
        self.anchor_port = None
        self.target = self.verdict = None

    # --- targets -------------------------------------------------------------------------------
    def _find_target(self, scene_pos):
        """The port (or card) under the cursor that could take the wire's free end."""
        r = CATCH_RADIUS
        # Topmost first; a small square around the cursor so ports are easy to hit.
        near = self.scene.items(QRectF(scene_pos.x() - r, scene_pos.y() - r, 2 * r, 2 * r))
        ports = [i for i in near if isinstance(i, PortItem) and i.is_output != self.forward]
        if ports:
            best = min(ports, key=lambda p: _distance2(p.anchor(), scene_pos))
            return (best.node_item, best.name)
        own = self.anchor_port.node_item
        # The wire starts on its own card's edge: that card only counts through its ports, or
        # every drag would open with "cannot feed itself".
        card = next(
            (i for i in self.scene.items(scene_pos) if isinstance(i, NodeItem) and i is not own),
            None,
        )
        if card is None:
            return None
        if not self.forward:
            return (card, "")
        if self.detached is not None and card.node_id == self.detached.dst:
            return (card, self.detached.port)
        free = card.first_free_input()
        if free is not None:
            return (card, free.name)
        if len(card.inputs) == 1:
            return (card, next(iter(card.inputs)))
        return (card, None)

    def _target_anchor(self, target):
        card, port = target
        return card.input_anchor(port) if self.forward else card.output_anchor()

    def _edge_for(self, target):
        card, port = target
        if port is None:
            return None
        if self.forward:
            return Edge(self.anchor_port.node_id, card.node_id, port)
        return Edge(card.node_id, self.anchor_port.node_id, self.anchor_port.name)

    def _judge(self, target):
        if target is None:
            return None
        edge = self._edge_for(target)
        if edge is None:
            src = self.anchor_port.node_id
            return check_connection(self.scene.document, src, target[0].node_id, None)
        if edge == self.detached:
            return Verdict(True, "keep this connection")
        return check_connection(
            self.scene.document, edge.src, edge.dst, edge.port, ignore=self.detached
        )

    def _light(self, target, state):
        port = None
        if target is not None and target[1] is not None:
            card, name = target
            port = card.output if not self.forward else card.inputs.get(name)
        if self._lit_port is not None and self._lit_port is not port:
            self._lit_port.set_state(None)
        self._lit_port = port
        if port is not None:
            port.set_state(state)


def _distance2(a, b):
    return (a.x() - b.x()) ** 2 + (a.y() - b.y()) ** 2
