"""The panel's calls into the training use cases (``app.workbench.training``), in one place.

The panel talks to a ``TrainingService``; tests hand it a fake with the same methods. What the
orchestrator returns as dataclasses becomes plain dicts here, the shape the widgets read.

Threads: training never blocks the GUI (``start`` launches a worker and returns; the panel polls
the session from a timer, and ``poll`` records what arrived: the GUI process is the only writer of
the project). ``evaluate`` waits for a worker, so ``evaluate_async`` runs it on a Python thread with
its *own* read-only use of the project file (a sqlite3 connection belongs to the thread that opened
it), and hands the result back to the GUI thread through a queued Qt signal.

A remote run reaches its host over SSH, which may take seconds (or a connection timeout): its
start, attach, stop and clean-up go through ``offthread``. The project is only used on the GUI
thread (its connection belongs to it), between the steps that wait on the host: check the host,
record the run, upload and launch, record the job (``prepare_run``/``launch_run``/``begin_run``).
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from layerloom.app.gui.training.offthread import one_line, run_off_thread
from layerloom.app.workbench import evaluating as workbench_evaluating
from layerloom.app.workbench import open_project
from layerloom.app.workbench import predicting as workbench_predicting
from layerloom.app.workbench import remotes as workbench_remotes
from layerloom.app.workbench import training as workbench_training
from layerloom.app.workbench.runs import NOT_CURVES, RUN_FACTS, epoch_curves
from layerloom.nodes import training
from layerloom.nodes.errors import LayerloomError


def run_dict(summary) -> dict:
    """A ``RunSummary`` as the runs table reads it."""
    data = asdict(summary) if not isinstance(summary, dict) else dict(summary)
    best = data.get("best_metrics") or data.get("final_metrics") or {}
    data["best"] = {k: v for k, v in best.items() if k not in NOT_CURVES}
    data["reason"] = data.get("error")
    # Facts about the run (what it resumes, the dataset it trained on) are not its settings.
    settings = {k: v for k, v in (data.get("settings") or {}).items() if k not in RUN_FACTS}
    data["settings"] = settings
    remote = workbench_remotes.remote_of_backend(data.get("backend"))
    data["remote"] = remote
    data["backend_label"] = remote or data.get("backend") or ""
    resumed = data.get("resumed_from")
    if resumed is not None:
        data["settings_summary"] = f"resumes #{resumed}"
    return data


class _Bridge(QObject):
    done = Signal(object, object)  # (result, error message)


class TrainingService:
    """The real orchestrator behind the panel."""

    def __init__(self, backend=None):
        self.backend = backend  # a LocalBackend (tests may pass one with another interpreter)
        self._bridges: set[_Bridge] = set()

    # --- settings -----------------------------------------------------------------------------
    def load_settings(self, opened) -> tuple[dict, str | None]:
        """The project's settings (defaults filled in) and, if the stored ones are unusable, why."""
        if opened is None:
            return dict(training.DEFAULTS), None
        try:
            return training.load(opened.project), None
        except training.SettingsError as error:
            return dict(training.DEFAULTS), str(error)

    def save_settings(self, opened, values: dict) -> None:
        training.save(opened.project, values)

    # --- runs ---------------------------------------------------------------------------------
    def start(self, opened, settings: dict | None = None, resume_run_id: int | None = None):
        return workbench_training.start_run(
            opened, settings, resume_run_id=resume_run_id, backend=self.backend
        )

    def runs(self, opened) -> list[dict]:
        if opened is None:
            return []
        # Without asking remote hosts: listing runs must not wait on the network.
        return [run_dict(summary) for summary in workbench_training.runs_without_waiting(opened)]

    def result_lines(self, opened, run_id: int) -> list[str]:
        """How a run ended in the terms evaluate and export use: its best epoch and metrics, and
        the run they use by default, with why (the CLI's closing lines)."""
        from layerloom.app.workbench.run_choice import result_of

        if opened is None:
            return []
        result = result_of(opened, run_id)
        lines = []
        if result.best_epoch is not None:
            shown = "  ".join(
                f"{name} {value:.4g}" for name, value in result.best_metrics.items() if name != "lr"
            )
            lines.append(
                f"run #{run_id}: best epoch {result.best_epoch} of {result.epochs}: {shown}"
            )
        if result.chosen is not None:
            lines.append(f"Evaluate and Export use {result.chosen.reason}")
        return lines

    def epoch_metrics(self, opened, run_ids) -> dict:
        """``{run_id: [{"epoch", "name", "value"}, ...]}``: each run's per-epoch train and
        validation metrics, for overlaying runs (a read of the project's ``metrics`` table)."""
        return epoch_curves(opened, run_ids)

    # --- evaluation ---------------------------------------------------------------------------
    def evaluate_async(self, path: Path, run_id: int, split: str, done) -> None:
        """Evaluate ``run_id`` on ``split`` in a worker; ``done(report_dict, None)`` or
        ``done(None, message)`` is called on the GUI thread."""
        bridge = _Bridge()
        self._bridges.add(bridge)

        def finish(result, error):
            self._bridges.discard(bridge)
            done(result, error)

        bridge.done.connect(finish)
        backend = self.backend

        def work():
            try:
                with open_project(path) as opened:
                    result = workbench_evaluating.evaluate(opened, run_id, split, backend=backend)
                bridge.done.emit(asdict(result), None)
            except Exception as error:  # shown in the panel; the GUI stays up
                bridge.done.emit(None, str(error) or type(error).__name__)

        threading.Thread(target=work, name="layerloom-evaluate", daemon=True).start()

    # --- prediction ---------------------------------------------------------------------------
    def predict_async(self, path: Path, run_id, inputs: list, top: int, done) -> None:
        """Predict ``inputs`` with ``run_id`` (None: the best run) in a worker, reading the
        project on a thread of its own; ``done(prediction_dict, None)`` or ``done(None, message)``
        on the GUI thread."""
        backend = self.backend

        def work(_report):
            with open_project(path, readonly=True) as opened:
                result = workbench_predicting.predict(opened, inputs, run_id, top, backend=backend)
            return asdict(result)

        run_off_thread(work, done, name="layerloom-predict")

    # --- remote runs (the waits on the host off the GUI thread) --------------------------------
    def start_remote(self, opened, settings, resume_run_id, remote: str, done, progress) -> None:
        """Start a run on ``remote``; ``done(session, None)`` or ``done(None, message)`` on the
        GUI thread, ``progress(line)`` as it goes. ``done`` is not called when the panel's
        project changed meanwhile (``opened`` closed): a job already launched is left running
        (its run is recorded there, and attachable)."""

        def checked(backend, error) -> None:
            if error:
                return done(None, error)
            try:
                prepared = workbench_training.prepare_run(opened, settings, resume_run_id, backend)
            except Exception as refused:  # settings or data: nothing recorded
                return done(None, one_line(refused))
            progress(f"run #{prepared.run_id}: uploading and starting on {remote}…")

            def launched(handle, error) -> None:
                if error:
                    failure = workbench_training.launch_failed(
                        opened, prepared, LayerloomError(error)
                    )
                    return done(None, one_line(failure))
                done(workbench_training.begin_run(opened, prepared, handle), None)

            run_off_thread(lambda _r: workbench_training.launch_run(prepared), launched)

        def check(_report):
            backend = workbench_remotes.training_backend(remote)
            backend.check()
            return backend

        progress(f"connecting to {remote}…")
        run_off_thread(check, checked)

    def attach(self, opened, run_id: int, done) -> None:
        """Follow a running run again: ``done(session, None)`` / ``done(None, message)``."""
        try:
            summary = workbench_training.attachable_run(opened, run_id)
        except Exception as error:
            done(None, one_line(error))
            return

        def attached(handle, error) -> None:
            if error:
                return done(None, error)
            done(workbench_training.follow_job(opened, summary, handle), None)

        run_off_thread(lambda _r: workbench_training.attach_job(summary), attached)

    def stop_run(self, path: Path, run_id: int, done) -> None:
        """Ask a run nobody here follows to stop (its own read of the project, on a thread)."""

        def work(_report):
            with open_project(path) as opened:
                return workbench_training.stop_run(opened, run_id)

        run_off_thread(work, done)

    def cancel_remote(self, session, done) -> None:
        """Stop the followed remote run resumably (a signal sent over SSH)."""
        run_off_thread(lambda _r: session.cancel(), done)

    def release_remote(self, session) -> None:
        """A remote run that ended: remove its job folder on the host (nothing waits for it)."""
        run_off_thread(lambda _r: session.handle.close(), lambda _result, _error: None)
