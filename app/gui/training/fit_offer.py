"""The Data tab's offer to fit the graph to a dataset ("Fit the graph to this data?"), and the undo
step that does it.

The offer is a strip inside the panel, not a modal dialog: it lists the changes
``nodes.adapt`` found (one line each) and waits for "Fit the graph" or "Not now" while the user
may still look at the graph. Accepting pushes one ``FitCommand`` on the document's undo stack:
the graph edits and the training loss/metrics together, so one Undo takes both back.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from layerloom.nodes import training
from layerloom.nodes.adapt import adapt
from layerloom.nodes.datasets import store_dataset_spec


class FitCommand(QUndoCommand):
    """The adaptation's graph edits and training settings as one undo step. ``show_settings`` is
    told the settings after each redo/undo, so the settings form shows them."""

    def __init__(self, document, adaptation, show_settings=None):
        super().__init__("Fit the graph to the data")
        self.graph = document.graph
        self.edit = adaptation.edit
        self.project = document.opened.project if document.opened is not None else None
        self.show_settings = show_settings
        self.after = dict(adaptation.settings)
        self.before = None
        if self.project is not None and adaptation.setting_changes():
            try:
                self.before = training.load(self.project)
            except training.SettingsError:
                self.before = dict(training.DEFAULTS)  # unusable stored settings: the defaults

    def redo(self):
        self.edit.apply(self.graph)
        self._settings(self.after)

    def undo(self):
        self.edit.revert(self.graph)
        self._settings(self.before)

    def _settings(self, values):
        if values is None or self.project is None:
            return
        training.save(self.project, values)
        if self.show_settings is not None:
            self.show_settings(training.load(self.project))


class FitOffer(QFrame):
    """Hidden until ``offer(adaptation)``; ``accepted(adaptation)`` on "Fit the graph"."""

    accepted = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Fit the graph to this data")
        self.adaptation = None
        self.title = QLabel("<b>Fit the graph to this data?</b>")
        self.task = QLabel()
        self.task.setWordWrap(True)
        self.task.setProperty("role", "secondary")
        self.changes = QLabel()
        self.changes.setWordWrap(True)
        self.changes.setAccessibleName("Changes that fit the graph")
        self.yes = QPushButton("Fit the graph")
        self.yes.setToolTip("Make these changes (one step to undo)")
        self.yes.clicked.connect(self.accept)
        self.no = QPushButton("Not now")
        self.no.clicked.connect(self.decline)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.no)
        buttons.addWidget(self.yes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.task)
        layout.addWidget(self.changes)
        layout.addLayout(buttons)
        self.hide()

    def offer(self, adaptation) -> None:
        self.adaptation = adaptation
        choice = adaptation.facts.task
        self.task.setText(f"Task: {choice.task}: {choice.reason}")
        lines = adaptation.lines() + adaptation.notes
        self.changes.setText("\n".join(f"• {line}" for line in lines))
        self.show()

    def lines(self) -> list[str]:
        return [] if self.adaptation is None else self.adaptation.lines()

    def accept(self) -> None:
        adaptation, self.adaptation = self.adaptation, None
        self.hide()
        if adaptation is not None:
            self.accepted.emit(adaptation)

    def decline(self) -> None:
        self.adaptation = None
        self.hide()


class FitGraphMixin:
    """The Data tab's side of the offer (mixed into ``DatasetPanel``: it has ``document``,
    ``opened``, ``fit_offer``, ``settings_changed``, ``_base_dir``, ``_evaluate``,
    ``show_stored`` and ``_show_status``)."""

    def adaptation_for(self, spec: dict):
        """The changes that fit the graph to ``spec`` (None when it cannot be fitted: the check
        then says why)."""
        settings = None
        if self.opened is not None:
            try:
                settings = training.load(self.opened.project)
            except training.SettingsError:
                settings = None
        try:
            return adapt(
                self.document.graph, self.document.registry, spec, settings, self._base_dir()
            )
        except Exception:
            return None

    def _offer_fit(self, spec: dict, fits: bool) -> bool:
        """Offer the changes when the graph does not fit ``spec``, or would fit it better
        (preprocessing, output, loss); True when offered."""
        adaptation = self.adaptation_for(spec)
        if adaptation is None or not adaptation.needed:
            self.fit_offer.decline()
            return False
        self.fit_offer.offer(adaptation)
        if not fits:
            self._show_status(f"{self.error}; “Fit the graph” makes the changes above", error=True)
        return True

    def fit_graph(self, adaptation) -> bool:
        """Apply ``adaptation`` as one undo step, then use its dataset; True when it fits."""
        if self.document is None or self.opened is None:
            return False
        fresh = self.adaptation_for(adaptation.spec)
        if fresh is None or fresh.lines() != adaptation.lines():
            # The graph changed since the offer: show what fitting it means now.
            if fresh is not None and fresh.needed:
                self.fit_offer.offer(fresh)
            self._show_status("The graph changed: check the changes again.", error=True)
            return False
        self.document.undo_stack.push(FitCommand(self.document, fresh, self.settings_changed.emit))
        info = self._evaluate(fresh.spec)
        if info is None:
            return False
        stored = store_dataset_spec(self.opened, fresh.spec)
        self.show_stored(stored)
        self._show_status(
            f"Graph fitted ({len(fresh.changes)} changes; Edit ▸ Undo takes them back) and"
            f" dataset set. Fits the model: {info.summary()}"
        )
        return True
