"""The main window's side of training: the Training dock's panel, built on first use, and the
Run menu's commands (Train F5, Stop Shift+F5, Resume, Evaluate, Remotes…).

A mixin for ``MainWindow`` so the window module only places the dock and calls three hooks:
``training_host`` (the dock's widget), ``release_training`` (before a document is dropped) and
``training_follow(document)`` (after New/Open). The host window also provides ``act`` (its
actions, None until built), ``update_export_action`` (ExportCommandsMixin), ``document``, ``save``,
``docks`` and ``show_message``. The panel, and pyqtgraph with it (~0.4 s to
import), is created the first time the dock is shown or a Run command needs it, so start-up does
not pay for it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QVBoxLayout, QWidget


class TrainingCommandsMixin:
    act = None  # the window's actions; None while the window is still building them
    _training = None
    _training_hooked = False

    def make_training_host(self) -> QWidget:
        """The Training dock's widget: empty until the panel is first needed."""
        self.training_host = QWidget()
        QVBoxLayout(self.training_host).setContentsMargins(0, 0, 0, 0)
        return self.training_host

    def hook_training_dock(self, dock) -> None:
        if not self._training_hooked:
            self._training_hooked = True
            dock.visibilityChanged.connect(lambda visible: visible and self.training)

    @property
    def training(self):
        """The Training panel, built the first time it is shown or a Run command needs it."""
        if self._training is None:
            from layerloom.app.gui.training.panel import TrainingPanel

            panel = TrainingPanel(self.document, save=self.save)
            panel.state_changed.connect(self.update_run_actions)
            panel.run_finished.connect(self._on_run_finished)
            self.training_host.layout().addWidget(panel)
            self.training_host.setFocusProxy(panel)
            self._training = panel
            self.update_run_actions()
        return self._training

    def training_follow(self, document) -> None:
        """Show ``document``'s runs and settings (called before the old document closes)."""
        if self._training is not None:
            self._training.set_document(document)

    def release_training(self) -> bool:
        """Before the document is dropped: stop a running run (the user may refuse)."""
        if self._training is None:
            return True
        return self._training.release(confirm=self.ask_stop_training)

    def show_training(self) -> None:
        """Raise the Training dock, tall enough for its curves (the bottom area starts short)."""
        self.training  # noqa: B018 - built on first use
        dock = self.docks["training"]
        dock.show()
        dock.raise_()
        tall = self.fontMetrics().height() * 22
        if not dock.isFloating() and dock.height() < tall:
            self.resizeDocks([dock], [tall], Qt.Orientation.Vertical)

    # --- Run menu -----------------------------------------------------------------------------
    def train(self) -> bool:
        self.show_training()
        return self.training.start()

    def stop_training(self) -> None:
        self.training.stop()

    def resume_training(self) -> bool:
        self.show_training()
        return self.training.resume()

    def evaluate_run(self) -> bool:
        self.show_training()
        return self.training.evaluate()

    def show_remotes(self):
        """Run ▸ Remotes…: the dialog the Training panel's chooser also opens."""
        self.show_training()
        return self.training.show_remotes()

    def update_run_actions(self) -> None:
        act = self.act
        if act is None:
            return
        panel = self._training
        running = panel is not None and panel.running
        act.train.setEnabled(not running)
        act.stop_training.setEnabled(running)
        act.resume_training.setEnabled(panel is not None and panel.can_resume())
        act.evaluate_run.setEnabled(panel is not None and panel.can_evaluate())
        self.update_export_action()  # a finished run may be the project's first trained one

    def _on_run_finished(self, run_id) -> None:
        run = self._training.runs.run(run_id) or {}
        self.show_message(f"Run #{run_id} {run.get('status', 'ended')}")

    def ask_stop_training(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Training Is Running",
            "A run is still training. Stop it now? It keeps its last checkpoint and can be resumed.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes
