"""Node items: the card for one graph node, its input/output ports, its problem and export badges.

Items only display domain state the scene hands them; they never touch the graph. A drag that
starts on a port is forwarded to the scene's wire controller (``interaction.py``), and node moves
are committed by the scene as one ``Move`` edit when the mouse is released.
"""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from layerloom.app.gui.canvas.export_badge import ExportBadgeItem
from layerloom.app.gui.canvas.frozen import LOCK_WIDTH, draw_lock, open_node_menu
from layerloom.app.gui.canvas.style import (
    BADGE_RADIUS,
    CORNER,
    NODE_WIDTH,
    PORT_HIT_RADIUS,
    PORT_RADIUS,
    Theme,
    blend,
)
from layerloom.app.gui.health_overlay import NO_MARK
from layerloom.nodes.freezing import FROZEN_NOTE

NODE_Z = 0.0
SHADOW_OFFSET = 2.0
SELECTED_NODE_Z = 1.0
HEALTH_TINT = 0.35  # how far a card's body moves towards its health colour


class PortItem(QGraphicsItem):
    """A connection point. Pressing it starts a wire drag handled by the scene's wire controller."""

    def __init__(self, node_item, name, is_output):
        super().__init__(node_item)
        self.node_item = node_item
        self.name = name  # the input port name; "" for the output
        self.is_output = is_output
        self.connected = False
        self.state = None  # None, "ok" or "refused" while a wire hovers this port
        self._hover = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def node_id(self):
        return self.node_item.node_id

    def set_connected(self, connected):
        if connected != self.connected:
            self.connected = connected
            self.update()

    def set_state(self, state):
        if state != self.state:
            self.state = state
            self.update()

    def anchor(self):
        """The port centre in scene coordinates (nodes are never rotated or scaled)."""
        return self.node_item.pos() + self.pos()

    def boundingRect(self):
        r = PORT_HIT_RADIUS
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self):
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def paint(self, painter, option, widget=None):
        theme = self.scene().theme
        accent = theme.accent(self.node_item.category)
        radius = PORT_RADIUS * (1.35 if (self._hover or self.state) else 1.0)
        if self.state == "ok":
            fill, ring = theme.ok, theme.ok
        elif self.state == "refused":
            fill, ring = theme.error, theme.error
        else:
            fill = accent if self.connected else theme.node_fill
            ring = accent
        painter.setPen(QPen(ring, 1.6))
        painter.setBrush(QBrush(fill))
        painter.drawEllipse(QPointF(0, 0), radius, radius)

    def hoverEnterEvent(self, event):
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hover = False
        self.update()

    def mousePressEvent(self, event):
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        self.scene().wiring.begin(self, event.scenePos())
        event.accept()

    def mouseMoveEvent(self, event):
        self.scene().wiring.move(event.scenePos())

    def mouseReleaseEvent(self, event):
        self.scene().wiring.finish(event.scenePos())


class BadgeItem(QGraphicsItem):
    """A red dot with "!" on nodes that have problems; its tooltip lists them."""

    def __init__(self, parent):
        super().__init__(parent)
        self.setVisible(False)

    def boundingRect(self):
        r = BADGE_RADIUS + 1
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter, option, widget=None):
        theme = self.scene().theme
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.error)
        painter.drawEllipse(QPointF(0, 0), BADGE_RADIUS, BADGE_RADIUS)
        painter.setPen(QPen(Qt.GlobalColor.white))
        painter.setFont(theme.title_font)
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")


class NodeItem(QGraphicsItem):
    """The card for one node: type, name, output shape and parameter count, with its ports."""

    def __init__(self, node, spec, theme: Theme):
        super().__init__()
        self.node_id = node.id
        self.name = node.name
        self.type_label = spec.label if spec is not None else node.type_id.rsplit(".", 1)[-1]
        self.category = spec.category if spec is not None else "unknown"
        self.doc = spec.doc if spec is not None else f"unknown node type {node.type_id}"
        self.shape_text = ""
        self.params_text = ""
        self.problems = []
        self.refusals = ()  # export targets that refuse this node (nodes.export_support.Refusal)
        self.health = NO_MARK  # a health figure's tint and value; where a run became non-finite
        self.frozen = not node.trainable  # drawn muted, with a lock (nodes.freezing)
        self.edges = set()  # EdgeItems touching this node; moved along with it
        self.inputs = {}  # port name -> PortItem, in display order
        self.width = NODE_WIDTH
        self.height = theme.header_height + theme.body_height
        self._theme = theme
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
        )
        # A cached pixmap per node is what keeps dragging smooth in 1000-node scenes (bench/gui.py).
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.output = PortItem(self, "", True)
        self.badge = BadgeItem(self)
        self.export_badge = ExportBadgeItem(self)
        self.setPos(QPointF(*node.pos))
        self._layout()
        self._update_tooltip()

    # --- state from the scene ------------------------------------------------------------------
    def set_theme(self, theme):
        self._theme = theme
        self._layout()
        self.update()

    def set_name(self, name):
        if name != self.name:
            self.name = name
            self._update_tooltip()
            self.update()

    def set_info(self, shape_text, params_text, problems):
        """Analysis results; returns whether anything visible changed."""
        if (shape_text, params_text, problems) == (
            self.shape_text,
            self.params_text,
            self.problems,
        ):
            return False
        self.shape_text, self.params_text, self.problems = shape_text, params_text, problems
        self.badge.setVisible(bool(problems))
        self.badge.setToolTip("\n".join(f"• {p}" for p in problems))
        self._update_tooltip()
        self.update()
        return True

    def set_refusals(self, refusals):
        """The export targets that refuse this node; returns whether anything visible changed."""
        refusals = tuple(refusals)
        if refusals == self.refusals:
            return False
        self.refusals = refusals
        self.export_badge.set_refusals(refusals, self._theme)
        self._update_tooltip()
        self.update()  # the border under the tag
        return True

    def set_frozen(self, frozen):
        if frozen != self.frozen:
            self.frozen = frozen
            self._update_tooltip()
            self.update()

    def contextMenuEvent(self, event):
        open_node_menu(self, event)

    def set_health(self, mark):
        """The node's health mark (``app.gui.health_overlay.Mark``); the scene hands it over."""
        if mark != self.health:
            self.health = mark
            self._update_tooltip()
            self.update()

    def set_ports(self, names, connected):
        """Show exactly ``names`` as input ports; ``connected`` are the ones with an edge."""
        if list(self.inputs) != list(names):
            for port in self.inputs.values():
                if port.scene() is not None:
                    port.scene().removeItem(port)
                else:
                    port.setParentItem(None)
            self.inputs = {name: PortItem(self, name, False) for name in names}
            self._layout()
            self.update_edges()
        for name, port in self.inputs.items():
            port.set_connected(name in connected)

    def set_output_connected(self, connected):
        self.output.set_connected(connected)

    # --- geometry ------------------------------------------------------------------------------
    @property
    def shows_port_labels(self):
        return len(self.inputs) > 1

    def _layout(self):
        theme = self._theme
        rows = len(self.inputs) if self.shows_port_labels else 0
        height = theme.header_height + theme.body_height
        if rows:
            height += rows * theme.port_row_height + 4.0
        if height != self.height:
            self.prepareGeometryChange()
            self.height = height
        body_bottom = theme.header_height + theme.body_height
        for i, port in enumerate(self.inputs.values()):
            if rows:
                y = body_bottom + (i + 0.5) * theme.port_row_height
            else:
                y = self.height / 2
            port.setPos(0.0, y)
        self.output.setPos(self.width, self.height / 2)
        self.badge.setPos(self.width - theme.padding - 2, theme.header_height / 2)
        # Hung on the bottom edge, right-aligned: it covers no text and needs no room in the card.
        self.export_badge.setPos(self.width - theme.padding, self.height)
        self.export_badge.relayout(theme)

    def input_anchor(self, port):
        item = self.inputs.get(port)
        return item.anchor() if item is not None else self.pos() + QPointF(0.0, self.height / 2)

    def output_anchor(self):
        return self.output.anchor()

    def first_free_input(self):
        return next((p for p in self.inputs.values() if not p.connected), None)

    def boundingRect(self):
        return QRectF(-2.0, -2.0, self.width + 4.0, self.height + 4.0 + SHADOW_OFFSET)

    def shape(self):
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, self.width, self.height), CORNER, CORNER)
        return path

    # --- painting ------------------------------------------------------------------------------
    def paint(self, painter, option, widget=None):
        theme = self._theme
        rect = QRectF(0, 0, self.width, self.height)
        accent = theme.accent(self.category)
        if self.isSelected():
            border = QPen(theme.highlight, 2.2)
        elif self.health.diverged:
            border = QPen(theme.error, 2.6)
        elif self.problems:
            border = QPen(theme.error, 1.4)
        else:
            border = QPen(theme.node_border, 1.0)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < 0.3:
            # Far out, text is unreadable: a tinted block is enough and much cheaper.
            painter.setPen(border)
            fill = theme.header_fill(self.category)
            painter.setBrush(theme.frozen_fill(fill) if self.frozen else fill)
            painter.drawRect(rect)
            return

        body = QPainterPath()
        body.addRoundedRect(rect, CORNER, CORNER)
        painter.setPen(Qt.PenStyle.NoPen)
        if lod >= 0.55:  # zoomed out the 2 px shadow is invisible, and it costs a path fill
            painter.fillPath(body.translated(0.0, SHADOW_OFFSET), theme.shadow)  # lifts the card
        fill, header_fill = theme.node_fill, theme.header_fill(self.category)
        if self.frozen:  # muted: the card reads as "fixed", its accent greyed
            fill, header_fill = theme.frozen_fill(fill), theme.frozen_fill(header_fill)
            accent = theme.frozen_fill(accent)
        painter.fillPath(body, fill)
        painter.save()
        painter.setClipPath(body)
        header = QRectF(0, 0, self.width, theme.header_height)
        painter.fillRect(header, header_fill)
        painter.fillRect(QRectF(0, 0, self.width, 3.0), accent)
        if self.health.color is not None:  # the chosen health figure tints the body
            body_rect = QRectF(0, header.bottom(), self.width, self.height - header.bottom())
            painter.fillRect(body_rect, blend(theme.node_fill, self.health.color, HEALTH_TINT))
        painter.restore()
        painter.setPen(QPen(theme.node_border, 1.0))
        painter.drawLine(QPointF(0, header.bottom()), QPointF(self.width, header.bottom()))
        painter.setPen(border)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(body)

        pad = theme.padding
        text_width = self.width - 2 * pad
        title_width = text_width - (2 * BADGE_RADIUS + 4 if self.problems else 0)
        if self.frozen:
            title_width -= LOCK_WIDTH + 4
            lock_right = self.width - pad - (2 * BADGE_RADIUS + 4 if self.problems else 0)
            draw_lock(painter, QPointF(lock_right - LOCK_WIDTH, 0), theme)
        painter.setPen(theme.text)
        painter.setFont(theme.title_font)
        title = theme.title_metrics.elidedText(
            self.type_label, Qt.TextElideMode.ElideRight, title_width
        )
        painter.drawText(
            QRectF(pad, 1.5, title_width, theme.header_height),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            title,
        )
        if lod < 0.55:
            return

        y = theme.header_height + 4.0
        line = theme.line_height
        left = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        painter.setFont(theme.body_font)
        name = theme.body_metrics.elidedText(self.name, Qt.TextElideMode.ElideMiddle, text_width)
        painter.drawText(QRectF(pad, y, text_width, line), left, name)
        painter.setFont(theme.mono_font)
        if self.shape_text:
            painter.setPen(theme.text)
            shape = theme.mono_metrics.elidedText(
                self.shape_text, Qt.TextElideMode.ElideRight, text_width
            )
        else:
            painter.setPen(theme.dim_text)
            shape = "shape unknown"
        painter.drawText(QRectF(pad, y + line, text_width, line), left, shape)
        painter.setPen(theme.dim_text)
        painter.setFont(theme.small_font)
        painter.drawText(QRectF(pad, y + 2 * line, text_width, line), left, self.params_text)
        if self.health.label:
            right = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
            painter.setPen(theme.error if self.health.diverged else theme.text)
            painter.drawText(QRectF(pad, y + 2 * line, text_width, line), right, self.health.label)

        if self.shows_port_labels:
            body_bottom = theme.header_height + theme.body_height
            painter.setPen(QPen(theme.node_border, 1.0))
            painter.drawLine(QPointF(pad, body_bottom), QPointF(self.width - pad, body_bottom))
            painter.setPen(theme.dim_text)
            row = theme.port_row_height
            for i, port_name in enumerate(self.inputs):
                painter.drawText(
                    QRectF(pad + 2, body_bottom + i * row, text_width, row), left, port_name
                )

    def mouseMoveEvent(self, event):
        super().mouseMoveEvent(event)  # Qt moves every selected card
        # Edges follow here rather than in itemChange: an itemChange override costs a Python call
        # for every change of every item, which dominated building 1000-node scenes.
        self.scene().follow_moved_nodes(self)

    def update_edges(self):
        for edge in self.edges:
            edge.update_path()

    def _update_tooltip(self):
        lines = [f"{self.type_label} · {self.name}", self.doc]
        if self.problems:
            lines.append("Problems:")
            lines += [f"• {p}" for p in self.problems]
        if self.refusals:
            lines.append("Cannot be exported to:")
            lines += [f"• {r.message}" for r in self.refusals]
        if self.health.diverged:
            lines.append("Training first became non-finite here (see the Health tab)")
        if self.frozen:
            lines.append(FROZEN_NOTE)
        self.setToolTip("\n".join(lines))
