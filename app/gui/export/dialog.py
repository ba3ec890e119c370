"""The Export dialog: pick a target, a run and its checkpoint, options and a folder; export; read
the parity report.

Left: one button per registered exporter (``targets.py``). Right: a setup page (run, checkpoint,
folder, the chosen exporter's options generated from its Params by the training settings form)
that becomes the outcome page once Export is pressed (a busy bar with the worker's stage and
Cancel, then the parity report). Below: the project's export history.

Nothing here blocks: ``prepare_export`` only checks (no TensorFlow), ``start_export`` starts the
export worker and returns, and a timer polls the session. The dialog is not modal: closing it while
an export runs only hides it (the export goes on, the window's status bar reports its end, and
File ▸ Export… shows it again); Cancel stops it. A refused request (no trained weights, a
refused node, a folder that is not writable) is one line on the dialog, never a traceback. Tests
replace ``ask_overwrite``, ``ask_folder`` and ``open_url``: the only calls that would wait on a
person or the desktop.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.export import service
from layerloom.app.gui.export.report import ExportHistory, ExportProgress, ExportReport
from layerloom.app.gui.export.setup_page import SetupPage, section
from layerloom.app.gui.export.targets import TargetPicker, sheet_colours
from layerloom.app.gui.export_compat import compatibility
from layerloom.app.gui.training.settings_form import SettingsForm
from layerloom.app.gui.wording import gui_text
from layerloom.app.workbench.exporting import ExportOutcome
from layerloom.nodes.errors import LayerloomError

POLL_MS = 100  # the worker reports stages every second or so; 10 Hz keeps elapsed time smooth
RELEASE_WAIT_SECONDS = 10.0


def error_text(error: Exception) -> str:
    if isinstance(error, LayerloomError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _first_line(refused) -> str:
    more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
    return refused[0].message + more


class ExportDialog(QDialog):
    exported = Signal(object)  # the ExportOutcome of a finished (not cancelled) export

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("ExportDialog")
        self.document = document
        self.opened = document.opened
        self.exporters = {e.target: e for e in service.exporters()}
        self.session = None
        self.outcome = None
        self.outcome_seen = True  # False while the report of an export that ended hidden is unread
        self.runs: list[service.TrainedRun] = []
        self.default_run: int | None = None  # what export uses when no run is picked
        self.default_reason = ""
        self.folders: dict[str, str] = {}  # target -> folder the user typed or browsed
        self.forms: dict[str, SettingsForm] = {}
        self._refused = []  # every refusal of the chosen run's graph (what would be exported)
        self._graph = None  # the chosen run's graph (None: the document's)
        self._run_problem: str | None = None  # why the chosen run cannot be exported at all
        self.open_url = QDesktopServices.openUrl

        self.picker = TargetPicker(self.exporters.values())
        self.picker.chosen.connect(self._on_target)
        line = self.fontMetrics().height()
        self.picker.setFixedWidth(line * 20)
        left = QVBoxLayout()
        left.addWidget(section("Where to?"))
        left.addWidget(self.picker, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_setup())
        self.stack.addWidget(self._build_outcome())

        right = QVBoxLayout()
        right.addWidget(self.stack, 1)
        columns = QHBoxLayout()
        columns.addLayout(left)
        columns.addSpacing(8)
        columns.addLayout(right, 1)

        self.history = ExportHistory()
        self.history.open_folder.connect(self._open_folder)
        self.history.setMaximumHeight(self.fontMetrics().height() * 8)

        self.back_button = QPushButton("Export Again…")
        self.back_button.setToolTip("Back to the target, run and options")
        self.back_button.clicked.connect(self.show_setup)
        self.back_button.hide()
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(section("Export history"))
        layout.addWidget(self.history)
        layout.addLayout(buttons)

        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.resize(line * 62, line * 46)
        self.reload()

    # --- building -----------------------------------------------------------------------------
    def _build_setup(self) -> QWidget:
        page = SetupPage()
        page.run_combo.currentIndexChanged.connect(self._on_run)
        page.folder_edit.textEdited.connect(self._on_folder_edited)
        page.browse_button.clicked.connect(self.browse)
        # The dialog reads and drives the page's widgets by these names (so do its tests).
        for name in SetupPage.PARTS:
            setattr(self, name, getattr(page, name))
        return page

    def _build_outcome(self) -> QWidget:
        self.progress = ExportProgress()
        self.progress.cancel_requested.connect(self.cancel)
        self.report = ExportReport()
        self.report.open_folder.connect(self._open_folder)
        self.outcome_pages = QStackedWidget()
        self.outcome_pages.addWidget(self.progress)
        self.outcome_pages.addWidget(self.report)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(section("Result"))
        layout.addWidget(self.outcome_pages, 1)
        return page

    def _form_for(self, target: str) -> SettingsForm | None:
        exporter = self.exporters[target]
        if not exporter.options:
            return None
        if target not in self.forms:
            form = SettingsForm(params=exporter.options, groups=(), rest_title=None)
            form.settings_changed.connect(lambda _values: self._update_state())
            self.forms[target] = form
            self.options.addWidget(form)
        return self.forms[target]

    # --- state --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.session is not None

    def current_target(self) -> str | None:
        return self.picker.current()

    def current_run(self) -> service.TrainedRun | None:
        index = self.run_combo.currentIndex()
        return self.runs[index] if 0 <= index < len(self.runs) else None

    def option_values(self, target: str | None = None) -> dict:
        form = self.forms.get(target or self.current_target() or "")
        return form.values() if form is not None else {}

    def reload(self) -> None:
        """Re-read the runs and the history (after training, or a new document)."""
        current = self.current_run()
        keep = current.id if current is not None else None
        self.runs = service.trained_runs(self.opened)
        # Unless one is picked already: the run `layerloom export` would use, and why.
        self.default_run, self.default_reason = service.default_run(self.opened)
        keep = keep if keep is not None else self.default_run
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for run in self.runs:
            self.run_combo.addItem(run.label, run.id)
        if not self.runs:
            self.run_combo.addItem("No run with trained weights yet")
        ids = [run.id for run in self.runs]
        self.run_combo.setCurrentIndex(ids.index(keep) if keep in ids else 0)
        self.run_combo.setEnabled(bool(self.runs))
        self.run_combo.blockSignals(False)
        self._on_run()
        self.refresh_history()

    def refresh_history(self) -> None:
        titles = {target: e.title for target, e in self.exporters.items()}
        try:
            records = service.history(self.opened)
        except Exception as error:  # a damaged table must not take the dialog down
            records = []
            self.show_message(f"cannot read the export history: {error_text(error)}")
        self.history.set_records(records, titles)

    def _on_run(self, _index=None) -> None:
        run = self.current_run()
        default = run is not None and run.id == self.default_run
        self.run_note.setText(f"Default: {self.default_reason}" if default else "")
        self.run_note.setVisible(default)
        kept_kind = self.checkpoint_combo.currentData()
        self.checkpoint_combo.clear()
        for kind in service.CHECKPOINT_KINDS:
            epoch = run.checkpoints.get(kind) if run else None
            label = f"{kind} (epoch {epoch})" if epoch is not None else kind
            self.checkpoint_combo.addItem(label, kind)
            if run is not None and kind not in run.checkpoints:
                index = self.checkpoint_combo.count() - 1
                self.checkpoint_combo.model().item(index).setEnabled(kind == "best")
        self.checkpoint_combo.setEnabled(run is not None)
        if run is not None and kept_kind in run.checkpoints:
            self.checkpoint_combo.setCurrentIndex(service.CHECKPOINT_KINDS.index(kept_kind))
        self._run_problem = None
        try:
            graph = service.run_graph(self.opened, run) if run else self.document.graph
        except Exception as error:  # a damaged graph version: exporting it would fail too
            graph = self.document.graph
            self._run_problem = f"Cannot read run #{run.id}'s graph: {error_text(error)}"
        # The same declarations the canvas badges read (one per document).
        capabilities = compatibility(self.document).capabilities
        self._refused = service.graph_refusals(graph, self.document.registry, capabilities)
        self._graph = graph
        self._update_targets()
        self._update_estimate()

    def _update_targets(self) -> None:
        """Disable the targets this machine or the run's graph rules out, saying why."""
        for target, exporter in self.exporters.items():
            button = self.picker.buttons[target]
            reason = exporter.unavailable()
            details = None
            if reason is None:
                # With the target's default options: options may rule out more (int8), which
                # the message under the form explains once the target is chosen.
                refused = service.target_refusals(self._refused, exporter, {})
                if refused:
                    reason = _first_line(refused)
                    details = "\n".join(r.message for r in refused)
            button.set_reason(reason, details)
        self.picker.select(self.current_target())

    def _on_target(self, target: str) -> None:
        form = self._form_for(target) if target else None
        self.options.setCurrentWidget(form if form is not None else self.no_options)
        self.options_heading.setText(
            f"{self.exporters[target].title} options" if target else "Options"
        )
        default = service.default_folder(self.opened, target) if target else None
        self.folder_edit.setText(self.folders.get(target, str(default) if default else ""))
        self._update_estimate()
        self._update_state()

    def _update_estimate(self) -> None:
        """The figures the chosen target gives before exporting (flash and RAM for a
        microcontroller); the report shows the measured ones after."""
        target = self.current_target()
        graph = self._graph or self.document.graph
        lines = []
        if target:
            capabilities = compatibility(self.document).capabilities
            lines = service.graph_estimate(graph, self.document.registry, capabilities, target)
        self.estimate.setText("\n".join(lines))
        self.estimate.setVisible(bool(lines))

    def _on_folder_edited(self, text: str) -> None:
        target = self.current_target()
        if target:
            self.folders[target] = text

    def _update_state(self) -> None:
        """Export is possible when a target is chosen, its options are valid and accepted."""
        target = self.current_target()
        blocker = None
        if not target:
            blocker = "No export target can be used here."
        elif self._run_problem:
            blocker = self._run_problem
        else:
            form = self.forms.get(target)
            problems = form.problems() if form is not None else []
            exporter = self.exporters[target]
            if problems:
                blocker = f"Fix the options first: {problems[0]}"
            else:
                refused = service.target_refusals(
                    self._refused, exporter, self.option_values(target)
                )
                if refused:
                    blocker = _first_line(refused)
        if blocker:
            self.show_message(blocker)
        elif not self.runs:
            self.show_message(
                "No run has trained weights yet: train the model first (Run ▸ Train).", "secondary"
            )
        else:
            self.show_message(None)
        self.export_button.setEnabled(
            blocker is None and not self.running and self.stack.currentIndex() == 0
        )

    def show_message(self, text: str | None, role: str = "error") -> None:
        text = gui_text(text or "")  # a shared workbench refusal may name a CLI command
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {sheet_colours()[role]};")
        self.message.setVisible(bool(text))

    def show_setup(self) -> None:
        self.stack.setCurrentIndex(0)
        self.back_button.hide()
        self.export_button.show()
        self._update_state()

    # --- asking -------------------------------------------------------------------------------
    def ask_overwrite(self, folder: Path) -> bool:
        Button = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Folder Is Not Empty",
            f"{folder} already holds files. Export into it anyway? Files with the same names are "
            "overwritten.",
            Button.Yes | Button.Cancel,
            Button.Cancel,
        )
        return answer == Button.Yes

    def ask_folder(self, start: str) -> str | None:
        path = QFileDialog.getExistingDirectory(self, "Export Into Folder", start)
        return path or None

    def browse(self) -> None:
        target = self.current_target()
        chosen = self.ask_folder(self.folder_edit.text())
        if chosen and target:
            self.folder_edit.setText(chosen)
            self.folders[target] = chosen

    def _open_folder(self, path: str) -> None:
        if path and Path(path).is_dir():
            self.open_url(QUrl.fromLocalFile(path))

    # --- exporting ----------------------------------------------------------------------------
    def export(self) -> bool:
        """Check the request and start the worker; False (with a message) when refused."""
        self._update_state()  # an option edit that was not valid did not refresh the state
        target = self.current_target()
        if self.running or not target or not self.export_button.isEnabled():
            return False
        exporter = self.exporters[target]
        text = self.folder_edit.text().strip()
        if not text:
            self.show_message("Choose a folder to export into.")
            return False
        folder = Path(text).expanduser()
        overwrite = False
        reuses = getattr(exporter, "reuses_folder", False)
        if not reuses and folder.is_dir() and any(folder.iterdir()):
            if not service.holds_export(folder):  # someone's own files: never replaced
                self.show_message(
                    f"{folder} already holds files that are not a Layerloom export: choose an "
                    "empty or new folder (Browse…)."
                )
                return False
            if not self.ask_overwrite(folder):
                return False
            overwrite = True
        run = self.current_run()
        try:
            prepared = service.prepare(
                self.opened,
                target,
                folder,
                run_id=run.id if run else None,
                options=self.option_values(target),
                checkpoint=self.checkpoint_combo.currentData() or "best",
                overwrite=overwrite,
            )
            session = service.start(prepared)
        except Exception as error:  # refused before a worker started: one line, no traceback
            self.show_message(error_text(error))
            return False
        self.session = session
        self.outcome = None
        checkpoint = prepared.checkpoint
        self._title = exporter.title
        self.progress.begin(
            f"Exporting run #{prepared.run_id} ({checkpoint.get('kind')} checkpoint, epoch "
            f"{checkpoint.get('epoch')}) to {exporter.title}"
        )
        self.outcome_pages.setCurrentWidget(self.progress)
        self.stack.setCurrentIndex(1)
        self.back_button.hide()
        self.export_button.hide()
        self.picker.setEnabled(False)
        self.close_button.setToolTip("Hide this dialog; the export goes on (Cancel stops it)")
        self.timer.start()
        return True

    def poll(self) -> None:
        """Take what the worker reported (never blocks; the timer calls this 10 times a second)."""
        session = self.session
        if session is None:
            self.timer.stop()
            return
        try:
            session.poll()
        except Exception as error:  # e.g. the project file became unwritable
            session.cancel()
            self._finish(session, error=error_text(error))
            return
        self.progress.show_stage(session.stage, time.monotonic() - session.started)
        if session.done:
            self._finish(session)

    def cancel(self) -> None:
        if self.session is not None:
            self.session.cancel()
            self.progress.cancelling()

    def _finish(self, session, error: str | None = None) -> None:
        self.timer.stop()
        self.session = None
        try:
            session.close()
        except Exception as close_error:
            error = error or f"cleaning up the export worker: {error_text(close_error)}"
        outcome = session.outcome
        if outcome is None:  # the session broke before an outcome: show it as an error
            prepared = session.prepared
            outcome = ExportOutcome(
                None, prepared.target, prepared.run_id, "error", str(prepared.out_dir)
            )
            outcome.error = error or "the export ended without a result"
            outcome.seconds = time.monotonic() - session.started
        self.outcome = outcome
        self.outcome_seen = self.isVisible()
        self.report.set_outcome(outcome, self._title)
        self.outcome_pages.setCurrentWidget(self.report)
        self.picker.setEnabled(True)
        self.close_button.setToolTip("")
        self.back_button.show()
        self.refresh_history()
        if outcome.status != "cancelled":
            self.exported.emit(outcome)

    def release(self) -> None:
        """Before the document closes: stop a running export and wait (briefly) for its end."""
        session = self.session
        if session is None:
            return
        session.cancel()
        deadline = time.monotonic() + RELEASE_WAIT_SECONDS
        while self.session is not None and time.monotonic() < deadline:
            self.poll()
            QApplication.processEvents()
            time.sleep(0.02)
        if self.session is not None:
            self._finish(self.session, error="the export was stopped")
