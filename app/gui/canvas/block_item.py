"""The card of a collapsed block and the scene's bookkeeping for blocks.

A collapsed block hides its nodes and shows one card at their top-left corner: one input port per
wire that comes in from outside, one output port per inner node that feeds the outside. The wires
are re-routed to those ports on screen only (``EdgeItem.src_end``/``dst_end``); the graph is not
touched. Double-clicking the card expands the block (an undoable ``SetCollapsed``).
"""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from layerloom.app.gui.canvas.style import CORNER, NODE_WIDTH, PORT_RADIUS
from layerloom.nodes.blocks import boundary, members
from layerloom.nodes.edits import Move, SetCollapsed

BLOCK_Z = 0.5
BLOCK_CATEGORY = "block"


class BlockEnd:
    """Where a re-routed wire ends on a block card: stands in for a NodeItem in EdgeItem."""

    def __init__(self, card, index, is_output):
        self.card, self.index, self.is_output = card, index, is_output

    def output_anchor(self):
        return self.card.port_anchor(self.index, True)

    def input_anchor(self, _port):
        return self.card.port_anchor(self.index, False)


class BlockItem(QGraphicsItem):
    def __init__(self, name, theme):
        super().__init__()
        self.name = name
        self.node_ids = []
        self.inputs = []  # "node.port" labels of wires from outside, in port order
        self.outputs = []  # names of the inner nodes that feed the outside
        self.width = NODE_WIDTH
        self.height = 0.0
        self._theme = theme
        self.setZValue(BLOCK_Z)
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
        )
        self.edges = set()  # EdgeItems re-routed to this card, moved along with it
        self._home = QPointF()  # where the nodes put the card; a drag moves them by the difference
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_content(self, node_ids, inputs, outputs, top_left):
        self.prepareGeometryChange()
        self.node_ids, self.inputs, self.outputs = node_ids, inputs, outputs
        theme = self._theme
        rows = max(len(inputs), len(outputs), 1)
        self.height = theme.header_height + theme.line_height * 2 + rows * theme.port_row_height
        self.setPos(top_left)
        self._home = QPointF(top_left)
        self.setToolTip(
            f"Block {self.name}: {len(node_ids)} layers\n"
            f"In: {', '.join(inputs) or 'nothing'}\nOut: {', '.join(outputs) or 'nothing'}\n"
            "Double-click to expand; Arrange ▸ Ungroup dissolves it"
        )
        self.update()

    def port_anchor(self, index, is_output):
        theme = self._theme
        top = theme.header_height + theme.line_height * 2
        y = top + (index + 0.5) * theme.port_row_height
        return self.pos() + QPointF(self.width if is_output else 0.0, y)

    def boundingRect(self):
        return QRectF(-PORT_RADIUS - 2, -2.0, self.width + 2 * PORT_RADIUS + 4, self.height + 6.0)

    def shape(self):
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, self.width, self.height), CORNER, CORNER)
        return path

    def paint(self, painter, option, widget=None):
        theme = self._theme
        rect = QRectF(0, 0, self.width, self.height)
        accent = theme.highlight
        border = QPen(
            theme.highlight if self.isSelected() else accent, 2.2 if self.isSelected() else 1.6
        )
        # A second card peeking out behind says "several layers in here".
        painter.setPen(QPen(theme.node_border, 1.0))
        painter.setBrush(theme.node_fill)
        painter.drawRoundedRect(rect.translated(4.0, 4.0), CORNER, CORNER)
        painter.setPen(border)
        painter.drawRoundedRect(rect, CORNER, CORNER)
        header = QRectF(0, 0, self.width, theme.header_height)
        painter.fillRect(header.adjusted(1, 1, -1, 0), theme.header_fill(BLOCK_CATEGORY))
        pad = theme.padding
        left = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        right = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
        text_width = self.width - 2 * pad
        painter.setPen(theme.text)
        painter.setFont(theme.title_font)
        title = theme.title_metrics.elidedText(
            f"▣ {self.name}", Qt.TextElideMode.ElideMiddle, text_width
        )
        painter.drawText(QRectF(pad, 0, text_width, theme.header_height), left, title)
        painter.setFont(theme.body_font)
        painter.setPen(theme.dim_text)
        line = theme.line_height
        y = theme.header_height + 2.0
        painter.drawText(
            QRectF(pad, y, text_width, line), left, f"block · {len(self.node_ids)} layers"
        )
        painter.drawText(QRectF(pad, y + line, text_width, line), left, "double-click to expand")
        painter.setFont(theme.small_font)
        row = theme.port_row_height
        top = theme.header_height + 2 * line
        half = text_width / 2 - 3.0  # the two columns never run into each other
        metrics = theme.small_metrics
        middle = Qt.TextElideMode.ElideMiddle
        for i, label in enumerate(self.inputs):
            shown = metrics.elidedText(label, middle, half)
            painter.drawText(QRectF(pad, top + i * row, half, row), left, shown)
        for i, label in enumerate(self.outputs):
            shown = metrics.elidedText(label, middle, half)
            painter.drawText(
                QRectF(self.width - pad - half, top + i * row, half, row), right, shown
            )
        painter.setPen(QPen(accent, 1.6))
        painter.setBrush(accent)
        for i in range(len(self.inputs)):
            painter.drawEllipse(self.port_anchor(i, False) - self.pos(), PORT_RADIUS, PORT_RADIUS)
        for i in range(len(self.outputs)):
            painter.drawEllipse(self.port_anchor(i, True) - self.pos(), PORT_RADIUS, PORT_RADIUS)

    def mouseMoveEvent(self, event):
        super().mouseMoveEvent(event)
        for edge in self.edges:
            edge.update_path()

    def mouseReleaseEvent(self, event):
        super().mouseReleaseEvent(event)
        delta = self.pos() - self._home
        if delta.isNull():
            return
        graph = self.scene().document.graph
        moves = {}
        for node_id in self.node_ids:
            x, y = graph.node(node_id).pos
            moves[node_id] = (x + delta.x(), y + delta.y())
        self.scene().document.push(Move(moves, text=f"Move {self.name}"))

    def mouseDoubleClickEvent(self, event):
        self.scene().document.push(SetCollapsed(self.name, False, text=f"Expand {self.name}"))
        event.accept()


def sync_blocks(scene):
    """Show a card for every collapsed block, hide its nodes and re-route the wires that cross it.

    Touches only what blocks change: a graph without blocks costs one check."""
    graph = scene.document.graph
    cards = scene.block_items
    collapsed = [b for b in graph.blocks() if b.collapsed and members(graph, b)]
    if not collapsed and not cards and not scene.hidden_nodes:
        return
    wanted = {b.name for b in collapsed}
    for name in list(cards):
        if name not in wanted:
            scene.removeItem(cards.pop(name))
    hidden, ends = {}, {}
    for block in collapsed:
        ids = members(graph, block)
        card = cards.get(block.name)
        if card is None:
            card = cards[block.name] = BlockItem(block.name, scene.theme)
            scene.addItem(card)
        inputs, outputs = boundary(graph, ids)
        sources = list(dict.fromkeys(e.src for e in outputs))
        items = [scene.nodes[i] for i in ids]
        left = min(item.pos().x() for item in items)
        top = min(item.pos().y() for item in items)
        in_labels = [f"{graph.node(e.dst).name}.{e.port}" for e in inputs]
        out_labels = [graph.node(s).name for s in sources]
        card.set_content(ids, in_labels, out_labels, QPointF(left, top))
        for node_id in ids:
            hidden[node_id] = card
        for i, edge in enumerate(inputs):
            key = (edge.src, edge.dst, edge.port)
            ends[key] = (ends.get(key, (None, None))[0], BlockEnd(card, i, False))
        for edge in outputs:
            key = (edge.src, edge.dst, edge.port)
            end = BlockEnd(card, sources.index(edge.src), True)
            ends[key] = (end, ends.get(key, (None, None))[1])
    for card in cards.values():
        card.edges = set()
    for node_id in set(scene.hidden_nodes) | set(hidden):
        item = scene.nodes.get(node_id)
        if item is None:
            continue
        item.setVisible(node_id not in hidden)
        for edge in item.edges:
            src_end, dst_end = ends.get(edge.key, (None, None))
            inner = edge.key not in ends and edge.edge.src in hidden and edge.edge.dst in hidden
            edge.setVisible(not inner)
            for end in (src_end, dst_end):
                if end is not None:
                    end.card.edges.add(edge)
            if (edge.src_end, edge.dst_end) != (src_end, dst_end) or src_end or dst_end:
                edge.src_end, edge.dst_end = src_end, dst_end
                edge.update_path()
    scene.hidden_nodes = hidden
