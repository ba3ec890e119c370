"""The open document: one project's graph, its live analysis and its undo stack.

Views never mutate the graph. They turn user intents into edits from ``nodes.edits`` and call
``Document.push``; the QUndoStack applies them, and the scene, inspector and problems panel update
because they observe the graph's events (re-emitted here as Qt signals).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from layerloom.app.workbench import OpenProject, create_project, open_project, warm_worker
from layerloom.nodes.analysis import Analysis
from layerloom.nodes.edits import Edit
from layerloom.nodes.graph import Graph, GraphEvent
from layerloom.nodes.registry import Registry, default_registry

MERGEABLE_ID = 0x4C4F  # QUndoCommand ids for edits that merge while typing/dragging


class EditCommand(QUndoCommand):
    """One domain edit as one undo step. ``merge_key`` lets repeated edits of one thing merge."""

    def __init__(self, graph: Graph, edit: Edit, merge_key: object = None):
        super().__init__(edit.text)
        self.graph = graph
        self.edit = edit
        self.merge_key = merge_key

    def redo(self):
        self.edit.apply(self.graph)

    def undo(self):
        self.edit.revert(self.graph)

    def id(self):
        return MERGEABLE_ID if self.merge_key is not None else -1

    def mergeWith(self, other):
        if not isinstance(other, EditCommand) or other.merge_key != self.merge_key:
            return False
        # Keep our own "before" state, take the other's "after": revert(self) restores the start.
        self.edit = _Merged(self.edit, other.edit)
        return True


class _Merged:
    def __init__(self, first: Edit, last: Edit):
        self.first, self.last, self.text = first, last, first.text

    def apply(self, graph: Graph) -> None:
        self.first.apply(graph)
        self.last.apply(graph)

    def revert(self, graph: Graph) -> None:
        self.last.revert(graph)
        self.first.revert(graph)


class Document(QObject):
    changed = Signal(object)  # GraphEvent
    analysis_changed = Signal()
    path_changed = Signal()

    def __init__(
        self,
        opened: OpenProject | None = None,
        registry: Registry | None = None,
        template: str | None = None,
    ):
        super().__init__()
        # The starter template an untitled document was made from: it trains on that template's
        # sample, and the Training panel records it in the project once saved.
        self.template = template
        self.registry = registry or (opened.registry if opened else default_registry())
        self.opened = opened
        self.graph = opened.graph if opened else Graph()
        self.analysis = Analysis(self.graph, self.registry)
        self.undo_stack = QUndoStack(self)
        self.graph.subscribe(self._on_graph_event)
        # An open project keeps a warm TensorFlow worker: its first Train click starts in < 1 s.
        self._holds_warm_worker = opened is not None and warm_worker.hold(opened)

    # --- files --------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> Document:
        return cls(open_project(path))

    @classmethod
    def new(cls, path: str | Path, template: str | None = None) -> Document:
        return cls(create_project(path, template, overwrite=True))

    @property
    def path(self) -> Path | None:
        return self.opened.path if self.opened else None

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def save(self) -> int:
        if self.opened is None:
            raise ValueError("an untitled document needs save_as")
        version = self.opened.save()
        self.undo_stack.setClean()
        return version

    def save_as(self, path: str | Path) -> int:
        from layerloom.nodes.project import Project

        if self.opened is None:
            self.opened = OpenProject(
                Project.create(path, overwrite=True), self.graph, self.registry
            )
        else:
            new_project = self.opened.project.save_as(path, overwrite=True)  # the dialog confirmed
            self.opened.project.close()
            self.opened = OpenProject(new_project, self.graph, self.registry)
        if not self._holds_warm_worker:  # an untitled document became a project
            self._holds_warm_worker = warm_worker.hold(self.opened)
        self.path_changed.emit()
        return self.save()

    def close(self) -> None:
        if self._holds_warm_worker:
            self._holds_warm_worker = False
            warm_worker.release()
        self.graph.unsubscribe(self._on_graph_event)
        self.analysis.close()
        if self.opened is not None:
            self.opened.close()

    # --- editing ------------------------------------------------------------------------------
    def push(self, edit: Edit, merge_key: object = None) -> None:
        """Apply ``edit`` as one undo step (merged with the previous one when keys match)."""
        self.undo_stack.push(EditCommand(self.graph, edit, merge_key))

    def _on_graph_event(self, event: GraphEvent) -> None:
        self.changed.emit(event)
        if event.kind != "moved":
            self.analysis_changed.emit()
