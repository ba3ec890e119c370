"""Documents that are not simply opened from a file: untitled from a template, restored after a crash."""

from __future__ import annotations

from layerloom.app.gui.autosave import Recovery
from layerloom.app.gui.document import Document
from layerloom.nodes.edits import AddNode, Composite, Connect, RemoveNodes
from layerloom.nodes.graph import Graph
from layerloom.nodes.serialize import graph_from_dict
from layerloom.nodes.templates import load_template


def untitled_document(template: str | None = None) -> Document:
    """A new, never-saved document, empty or holding ``template``; not modified until edited."""
    document = Document(template=template or None)
    if template:
        source = load_template(template, document.registry)
        for node in source.nodes():
            document.graph.add_node(node)
        for edge in source.edges():
            document.graph.connect(edge)
    return document


def replace_graph_edit(current: Graph, new: Graph, text: str) -> Composite:
    """One undoable edit that turns ``current`` into ``new`` (used to restore recovered work)."""
    edits = [RemoveNodes([n.id for n in current.nodes()])]
    edits += [AddNode(node) for node in new.nodes()]
    edits += [Connect(edge) for edge in new.edges()]
    return Composite(edits, text=text)


def restore_document(recovery: Recovery) -> Document:
    """The recovered graph as unsaved changes (modified) on top of its project, or untitled.

    Raises LayerloomError when the original project exists but cannot be opened.
    """
    path = recovery.project_path
    document = Document.open(path) if path is not None and path.is_file() else Document()
    recovered = graph_from_dict(recovery.graph, document.registry)
    document.push(replace_graph_edit(document.graph, recovered, "Restore unsaved changes"))
    return document
