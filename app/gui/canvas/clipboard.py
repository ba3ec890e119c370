"""Copy and paste of node selections through the system clipboard.

The payload is JSON in the ``application/x-layerloom-graph`` mime type: the selected nodes and the
edges among them, written with ``nodes.serialize`` so it works between two windows (and two
processes) of the app. Pasting builds one ``Composite`` edit with fresh ids and unique names.
"""

import atexit
import json

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from layerloom.nodes.edits import AddNode, Composite, Connect
from layerloom.nodes.graph import Edge, Graph, new_id
from layerloom.nodes.serialize import graph_to_dict, node_from_dict

GRAPH_MIME = "application/x-layerloom-graph"


def selection_payload(graph, node_ids):
    """The selected nodes and the edges among them, as the JSON-able graph format."""
    chosen = set(node_ids)
    # A scratch Graph only to reuse the serializer; the document's graph is read, never changed.
    part = Graph()
    for node_id in node_ids:
        part.add_node(graph.node(node_id))
    for node_id in node_ids:
        for edge in graph.out_edges(node_id):
            if edge.dst in chosen:
                part.connect(edge)
    return graph_to_dict(part)


def to_mime(payload):
    mime = QMimeData()
    data = json.dumps(payload).encode("utf-8")
    mime.setData(GRAPH_MIME, data)
    names = ", ".join(n["name"] for n in payload["nodes"])
    mime.setText(f"Layerloom nodes: {names}")
    return mime


def put_on_clipboard(payload):
    QGuiApplication.clipboard().setMimeData(to_mime(payload))
    _install_exit_guard()


_guard_installed = False


def _install_exit_guard():
    """Hand the clipboard a Qt-made copy (plain text) before Python shuts down.

    A QMimeData created from Python and owned by the clipboard is deleted by Qt only when the
    QApplication dies, after the interpreter has finalized; its wrapper then calls into a dead
    Python and the process segfaults on exit (PySide6 6.11, seen offscreen). The nodes themselves
    cannot outlive the process anyway: only another Layerloom window reads them.
    """
    global _guard_installed
    if not _guard_installed:
        _guard_installed = True
        atexit.register(_release_clipboard)


def _release_clipboard():
    if QGuiApplication.instance() is None:
        return
    clipboard = QGuiApplication.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasFormat(GRAPH_MIME):
        clipboard.setText(mime.text())


def from_mime(mime):
    """The payload in ``mime``, or None when it holds no (readable) Layerloom nodes."""
    if mime is None or not mime.hasFormat(GRAPH_MIME):
        return None
    try:
        payload = json.loads(bytes(mime.data(GRAPH_MIME)).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(payload, dict) or not payload.get("nodes"):
        return None
    return payload


def _unique(graph, base, taken):
    name = graph.unique_name(base)
    i = 1
    while name in taken:  # graph.unique_name cannot see names chosen earlier in this paste
        name = graph.unique_name(f"{base}_{i}")
        i += 1
    return name


def paste_edit(graph, registry, payload, offset):
    """(edit, new node ids) that add ``payload``'s nodes shifted by ``offset``, with new ids."""
    ids = {}
    taken = set()
    edits = []
    dx, dy = offset
    for item in payload["nodes"]:
        fresh = new_id()
        ids[item["id"]] = fresh
        name = _unique(graph, item["name"], taken)
        taken.add(name)
        x, y = item.get("pos", (0.0, 0.0))
        node = node_from_dict(
            {**item, "id": fresh, "name": name, "pos": (x + dx, y + dy)}, registry
        )
        edits.append(AddNode(node))
    for item in payload.get("edges", []):
        if item["src"] in ids and item["dst"] in ids:
            edits.append(Connect(Edge(ids[item["src"]], ids[item["dst"]], item["port"])))
    count = len(ids)
    text = f"Paste {count} node" + ("s" if count != 1 else "")
    return Composite(edits, text=text), list(ids.values())
