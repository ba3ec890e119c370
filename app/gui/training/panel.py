"""The Training panel: settings, live curves, progress, the runs of the project and evaluation.

Layout: the progress strip (Train / Stop / Resume) on top; below, the settings form, the curves /
evaluation / log tabs, and the runs table. Selecting runs overlays their epoch curves; selecting
none shows the live (or last) run again.

Training never blocks the GUI: ``start`` saves the project (through the window's save flow when one
is given: an untitled project asks for a path), starts a worker through the orchestrator and
returns; a ~30 Hz timer drains the worker's events (the session records each one in the project:
this process is the only writer) and feeds the plots and the progress strip. A worker that crashes
arrives as a ``failed`` event with its reason; the panel shows it and stays usable.
"""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from layerloom.app.gui.training.events import describe_event, event_type
from layerloom.app.gui.training.panel_layout import PanelLayoutMixin
from layerloom.app.gui.training.plots import FRAME_MS
from layerloom.app.gui.training.progress import ProgressStrip
from layerloom.app.gui.training.remote_runs import RemoteRunsMixin
from layerloom.app.gui.training.settings_form import SettingsForm
from layerloom.app.gui.wording import gui_text
from layerloom.nodes.wording import plural

RESUMABLE = ("cancelled", "failed", "finished", "interrupted", "diverged")


class TrainingPanel(PanelLayoutMixin, RemoteRunsMixin, QWidget):
    run_started = Signal(object)  # run id
    run_finished = Signal(object)  # run id
    state_changed = Signal()  # running or selection changed: menu actions re-check themselves

    def __init__(self, document, service=None, save=None, parent=None):
        super().__init__(parent)
        if service is None:
            from layerloom.app.gui.training.service import TrainingService

            service = TrainingService()
        self.service = service
        self.save = save  # () -> bool: the window's Save (asks for a path when untitled)
        self._releasing = False  # release() is waiting for a stopped run's last events
        self.document = None
        self.session = None
        self.evaluating: int | str | None = None  # a run id, or "best"
        self._settings_problem: str | None = None

        self.progress = ProgressStrip()
        self.progress.start_requested.connect(self.start)
        self.progress.stop_requested.connect(self.stop)
        self.progress.resume_requested.connect(lambda: self.resume())
        self.form = SettingsForm(on_change=self._store_settings)
        self._build_remote_controls()
        self._build_views()
        self._build_side()
        self._build_frame()

        self.timer = QTimer(self, interval=FRAME_MS)
        self.timer.timeout.connect(self.drain)
        self.set_document(document)

    # --- the document -------------------------------------------------------------------------
    @property
    def opened(self):
        return None if self.document is None else self.document.opened

    @property
    def running(self) -> bool:
        """Following a run, or reaching a host to start or attach to one."""
        return self.session is not None or self.pending is not None

    def set_document(self, document) -> None:
        """Show ``document``'s settings and runs. A run of the previous document is stopped first
        (its project file is about to close)."""
        if self.session is not None:
            self.release(ask=False)
        self.document = document
        self.chooser.set_project(document.path if document is not None else None)
        self.data.set_document(document)
        self.data_view.set_document(document)
        values, problem = self.service.load_settings(self.opened)
        self.form.set_values(values)
        self._settings_problem = problem
        if problem:
            self._log(f"stored training settings ignored: {problem}")
        self.plots.reset()
        self.plots.show_live()
        self.evaluation.clear("Evaluate a finished run to see how it does on held-out data.")
        if document is not None:
            from layerloom.app.gui.health_overlay import health_overlay

            self.health.set_overlay(health_overlay(document))
        self.health.reset()
        self.progress.reset()
        self.progress.set_state("idle")
        self.refresh_runs()

    def _store_settings(self, values: dict) -> None:
        if self.opened is None:
            return  # untitled: stored when the project is first saved (start)
        try:
            self.service.save_settings(self.opened, values)
        except Exception as error:
            self._refuse(f"cannot store the settings: {error}")

    def refresh_runs(self) -> None:
        try:
            runs = self.service.runs(self.opened)
        except Exception as error:
            self._log(f"cannot read the runs: {error}")
            runs = []
        dark = bool(QApplication.instance().property("layerloom_dark"))
        self.runs.set_runs(runs, dark=dark)
        self._update_buttons()
        self._refresh_pipeline()

    def _refresh_pipeline(self) -> None:
        from layerloom.app.workbench.pipeline import pipeline_runs

        try:
            self.pipeline.show_runs(pipeline_runs(self.opened))
        except Exception as error:
            self._log(f"cannot read the pipeline runs: {error}")
            self.pipeline.show_runs([])

    # --- train / stop / resume ----------------------------------------------------------------
    def _ensure_saved(self) -> bool:
        document = self.document
        if document.path is not None and not document.modified:
            return True
        if self.save is not None:
            return bool(self.save())
        if document.path is None:
            self._refuse("Save the project first: a run is recorded in the project file.")
            return False
        document.save()
        return True

    def _refuse(self, message: str) -> None:
        message = gui_text(message)  # a shared workbench message may name a CLI command
        self.progress.set_state("refused", message)
        self._log(message)

    def start(self) -> bool:
        """Train the document's graph with the form's settings; False when it could not start."""
        return self._start(None, None)

    def resume(self, run_id=None) -> bool:
        """Continue ``run_id`` (default: the selected run) from its last checkpoint, as a new run.
        A run that already trained all its epochs trains up to the form's epoch count."""
        if run_id is None:
            selected = self.runs.selected_ids()
            run_id = selected[0] if len(selected) == 1 else None
        run = self.runs.run(run_id) if run_id is not None else None
        if run is None:
            self._refuse("Select the run to resume.")
            return False
        overrides = None
        done, planned = run.get("epochs") or 0, (run.get("settings") or {}).get("epochs")
        if isinstance(planned, int) and planned <= done:
            wanted = self.form.values()["epochs"]
            if wanted <= done:
                self._refuse(
                    f"Run #{run_id} already trained {plural(done, 'epoch')}: set Epochs above {done} to "
                    "train it further."
                )
                return False
            overrides = {"epochs": wanted}
        return self._start(run_id, overrides)

    def _start(self, resume_run_id, overrides) -> bool:
        if self.running or self.document is None:
            return False
        problems = self.form.problems()
        if problems:
            self._refuse(f"Fix the settings first: {problems[0]}")
            return False
        if not self._ensure_saved():
            return False
        self._adopt_template()
        self.chooser.set_project(self.document.path)  # a first save gave it one: keep the choice
        remote = self.chooser.remote()
        self.log.clear()
        try:
            if resume_run_id is None:
                self.service.save_settings(self.opened, self.form.values())
            if remote is not None:  # reaches the host off this thread; _follow when it started
                return self._start_remote(remote, resume_run_id, overrides)
            session = self.service.start(self.opened, overrides, resume_run_id=resume_run_id)
        except Exception as error:  # refused before a worker started: not a run
            self._refuse(str(error) or type(error).__name__)
            return False
        self._follow(session, resume_run_id, None)
        return True

    def _follow(self, session, resume_run_id, remote, attached: bool = False) -> None:
        """Show ``session``'s run live (started here, or attached to)."""
        self.session = session
        self.session_remote = remote
        self.plots.reset()
        self.plots.show_live()
        self.health.reset()
        earlier = (
            resume_run_id if resume_run_id is not None else session.run_id if attached else None
        )
        if earlier is not None:  # draw the epochs this run continues from (or already did)
            try:
                history = self.service.epoch_metrics(self.opened, [earlier])
                self.plots.set_history(history.get(earlier))
            except Exception as error:
                self._log(f"cannot read run #{earlier}'s curves: {error}")
        self.progress.reset()
        self.progress.set_state("running" if attached else "starting")
        self.tabs.setCurrentWidget(self.plots)
        self.side.setCurrentIndex(0)  # Runs: the new run is there
        where = f" on {remote}" if remote else ""
        if attached:
            what = "attached to"
        else:
            what = f"resuming run #{resume_run_id} as" if resume_run_id is not None else "training"
        self._log(f"{what} run #{session.run_id}{where}…")
        self.refresh_runs()
        self.runs.select([], emit=False)
        self.timer.start()
        self.run_started.emit(session.run_id)
        self.state_changed.emit()

    def _adopt_template(self) -> None:
        """An untitled document made from a template trains on the template's sample until the
        project names a dataset; remember the template in the newly saved project."""
        template = self.document.template
        project = self.opened.project if self.opened is not None else None
        if template and project is not None:
            if project.get_setting("dataset") is None and project.get_setting("template") is None:
                project.set_setting("template", template)

    def stop(self) -> None:
        """Ask the worker to stop after its current batch (the run ends 'cancelled')."""
        if self.session is None:
            return
        if self.session_remote is not None:
            self._cancel_remote(self.session)  # a signal over SSH, off this thread
        else:
            self.session.cancel()
        self.progress.set_state("stopping")
        self._log("stopping after the current batch…")
        self.state_changed.emit()

    def drain(self) -> None:
        """Record and show the events that arrived (the timer calls this ~30 times a second)."""
        session = self.session
        if session is None:
            self.timer.stop()
            return
        try:
            events = session.poll()
        except Exception as error:  # e.g. the project file became unwritable
            self._log(f"cannot record the run: {error}")
            self.progress.set_state("failed", f"cannot record the run: {error}")
            session.cancel()
            events = []
            self._finish(session)
            return
        for event in events:
            self.plots.add_event(event)
            self.health.add_event(event)
            self.progress.add_event(event)
            line = describe_event(event)
            if line:
                self._log(line)
        if session.done:
            self._finish(session)
        elif any(event_type(e) in ("started", "epoch") for e in events):
            self.refresh_runs()  # the running run's row: its epochs and metrics so far

    def _finish(self, session) -> None:
        self.timer.stop()
        self.session = None
        remote, self.session_remote = self.session_remote, None
        try:
            if remote is not None:
                self.service.release_remote(session)  # the host's job folder, off this thread
            else:
                session.close()  # the worker has exited or is killed; its temp folder is removed
        except Exception as error:
            self._log(f"cleaning up the worker: {error}")
        self.plots.flush()
        self._show_health(session.run_id)  # the run's findings, now that it has ended
        self.refresh_runs()
        try:
            for line in self.service.result_lines(self.opened, session.run_id):
                self._log(line)
        except Exception as error:  # a summary line must not take the panel down
            self._log(f"cannot read the run's result: {error}")
        self.state_changed.emit()
        self.run_finished.emit(session.run_id)

    # --- runs, overlay and evaluation ---------------------------------------------------------
    def _on_runs_selected(self, run_ids: list) -> None:
        if run_ids:
            try:
                data = self.service.epoch_metrics(self.opened, run_ids)
            except Exception as error:
                self._log(f"cannot read the runs' metrics: {error}")
                data = {}
            self.plots.show_runs(data)
            self.tabs.setCurrentWidget(self.plots)
            if len(run_ids) == 1:
                self._show_health(run_ids[0])
        else:
            self.plots.show_live()
        self._update_buttons()
        self.state_changed.emit()

    def _show_health(self, run_id) -> None:
        """A stored run's health figures and findings in the Health tab (and on the canvas)."""
        from layerloom.app.workbench.health import health_report
        from layerloom.nodes.errors import LayerloomError

        if self.opened is None:
            return
        try:
            self.health.show_report(health_report(self.opened, run_id))
        except LayerloomError:  # no health figures: trained with health off, or on JAX
            self.health.show_report(None)

    def _predict_target(self) -> tuple:
        """(project path, run id) the Predict tab asks: the selected run, else the best one."""
        path = self.document.path if self.document is not None else None
        run = self.selected_run()
        return path, run.get("id") if run else None

    def selected_run(self) -> dict | None:
        selected = self.runs.selected_ids()
        return self.runs.run(selected[0]) if len(selected) == 1 else None

    def can_resume(self) -> bool:
        run = self.selected_run()
        # Whether it has a checkpoint is the orchestrator's call: a refusal says why.
        return self.session is None and run is not None and run.get("status") in RESUMABLE

    def can_evaluate(self) -> bool:
        run = self.selected_run()
        # Nothing selected: the best finished run of the current graph (run_choice) is evaluated.
        chosen = not self.runs.selected_ids() and any(
            r.get("status") == "finished" for r in self.runs.model.runs
        )
        return (
            self.evaluating is None
            and (chosen or (run is not None and run.get("status") in RESUMABLE))
            and self.document is not None
            and self.document.path is not None
        )

    def _update_buttons(self) -> None:
        self.progress.set_can_resume(self.can_resume())
        self.evaluate_button.setEnabled(self.can_evaluate())
        self.attach_button.setEnabled(self.can_attach())
        run = self.selected_run()
        self.stop_run_button.setEnabled(run is not None and run.get("status") == "running")

    def evaluate(self, run_id=None) -> bool:
        """Evaluate a run (default: the selected one, else the best finished run of the current
        graph) on the chosen split, without blocking."""
        if run_id is None:
            run = self.selected_run()
            run_id = run.get("id") if run else None
        if run_id is None and not self.can_evaluate():
            return False
        if self.evaluating is not None or self.document.path is None:
            return False
        split = self.split.currentText()
        self.evaluating = "best" if run_id is None else run_id
        which = "the best run" if run_id is None else f"run #{run_id}"
        self.evaluation.clear(f"Evaluating {which} on the {split} split…")
        self.tabs.setCurrentWidget(self.evaluation)
        self._update_buttons()
        self.state_changed.emit()

        def done(report, error):
            if not shiboken6.isValid(self):  # the panel was closed while evaluating
                return
            self.evaluating = None
            if error:
                self.evaluation.clear(f"Could not evaluate {which}: {error}")
                self._log(f"evaluation of {which} failed: {error}")
            else:
                title = f"Run #{report.get('run_id', run_id)}"
                self._log(f"evaluated {report.get('reason') or title}")
                if report.get("warning"):  # other data than the run trained on
                    title += " · not the data it trained on (see the log)"
                    self._log(f"warning: {report['warning']}")
                self.evaluation.set_report(report, title=title)
            self._update_buttons()
            self.state_changed.emit()

        self.service.evaluate_async(self.document.path, run_id, split, done)
        return True

    # --- log ----------------------------------------------------------------------------------
    def _log(self, line: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {line}")
