"""The canvas previews' model: one ``NodePreviews`` per document, filled by the Look Inside panel
and observed by the canvas scene (which only reads it).

It holds, by node name (as ``inspect`` reports them), each node's statistics and preview (a
feature-map grid, bars, a histogram or the head's top classes, see
``backends.activation_stats``) for the sample the panel computed, and which weights spoke. A file
dropped on the canvas is announced here (``file_dropped``) for the panel to take as its sample.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class NodePreviews(QObject):
    changed = Signal()
    file_dropped = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.visible = False
        self.nodes: dict[str, dict] = {}  # node name -> inspect's record (statistics, preview)
        self.reason = ""  # which weights: "run 3 (...)", "the initial weights (...)"
        self.sample = ""  # which example

    def set_results(self, nodes: list[dict], reason: str = "", sample: str = "") -> None:
        self.nodes = {record["node"]: record for record in nodes}
        self.reason, self.sample = reason, sample
        self.changed.emit()

    def set_visible(self, visible: bool) -> None:
        if visible != self.visible:
            self.visible = visible
            self.changed.emit()

    def clear(self) -> None:
        self.nodes = {}
        self.changed.emit()

    def shown(self, name: str) -> dict | None:
        """What the node called ``name`` shows now (None: nothing)."""
        return self.nodes.get(name) if self.visible else None

    def drop_file(self, path: str) -> None:
        self.file_dropped.emit(path)


def node_previews(document) -> NodePreviews:
    """The document's one NodePreviews (created on first use, owned by the document)."""
    found = document.findChild(NodePreviews)
    return found if found is not None else NodePreviews(document)


def dropped_file(mime) -> str:
    """The first local file a drag carries ("" when none): a sample for the previews."""
    if not mime.hasUrls():
        return ""
    return next((url.toLocalFile() for url in mime.urls() if url.isLocalFile()), "")
