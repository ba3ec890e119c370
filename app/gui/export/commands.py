"""The main window's side of exporting: File ▸ Export… (Ctrl+E) and its toolbar button.

A mixin for ``MainWindow``. The action is enabled when the project file holds a run with trained
weights (re-checked when a document is attached, when a run ends and after saving). The dialog is
built on first use for the current document, kept while that document is open (so its choices
and a running export survive closing it) and released before the document closes.
"""

from __future__ import annotations

from layerloom.app.workbench.runs import trained_run_count


class ExportCommandsMixin:
    act = None  # the window's actions (with ``export``); None while they are being built
    export_dialog = None
    _trained_runs = 0

    def export_model(self):
        """Show the Export dialog for the current document (built on first use)."""
        from layerloom.app.gui.export.dialog import ExportDialog

        dialog = self.export_dialog
        if dialog is None or dialog.document is not self.document:
            self.release_export()
            dialog = ExportDialog(self.document, self)
            dialog.exported.connect(self._on_exported)
            self.export_dialog = dialog
        elif not dialog.running:
            dialog.reload()  # runs may have finished since it was last shown
            if dialog.isHidden() and dialog.outcome_seen:
                dialog.show_setup()  # else: show the report of an export that ended while hidden
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        dialog.outcome_seen = True
        return dialog

    def release_export(self) -> bool:
        """Before the document is dropped: stop a running export; the dialog goes with it."""
        dialog = self.export_dialog
        if dialog is not None:
            dialog.release()
            dialog.hide()
            dialog.deleteLater()
            self.export_dialog = None
        return True

    def update_export_action(self) -> None:
        act = self.act
        if act is None:
            return
        try:
            count = trained_run_count(self.document.opened)
        except Exception:  # an unreadable file: Export would only fail; say so there
            count = 0
        trained = count > 0
        if count != self._trained_runs:
            self._trained_runs = count
            dialog = self.export_dialog
            if dialog is not None and dialog.document is self.document and not dialog.running:
                dialog.reload()  # a run just finished: offer it
        act.export.setEnabled(trained)
        act.export.setStatusTip(
            "Export a trained run to a phone, a browser, a server, ONNX, Keras or Python"
            if trained
            else "Export needs a trained run: train the model first (Run ▸ Train)"
        )

    def _on_exported(self, outcome) -> None:
        dialog = self.export_dialog
        exporter = dialog.exporters.get(outcome.target) if dialog is not None else None
        title = exporter.title if exporter is not None else outcome.target
        if outcome.status == "passed":
            text = f"Exported to {title}: parity check passed"
        elif outcome.status == "failed":
            text = f"Exported to {title}, but the parity check failed"
        else:
            text = f"Export to {title} failed: {outcome.error}"
        self.show_message(text, 8000)
