"""The Training panel's remote side: the backend chooser, the Remotes dialog, starting a run on a
remote, and Attach / Stop Run for runs that nobody here follows.

A mixin for ``TrainingPanel`` (which owns the session, the plots, the progress strip and the log)
so the panel module stays about following a run, wherever it trains. Everything that reaches a
host over SSH goes through the service's off-thread calls (check, record-then-launch, attach,
stop, clean-up). One wait is left on the GUI thread: when the session records a ``checkpoint``
event it fetches the checkpoint's files from the host (``TrainingSession`` reads them as it
records), over the run's already open, shared SSH connection.

A followed remote run is *detached* when its document closes (the window closes, another project
opens): the job goes on on its host, and Attach (or ``layerloom attach``) follows it again, with
nothing lost. A local run keeps the panel's behaviour: it is stopped cleanly.
"""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from layerloom.app.gui.training.backend_chooser import BackendChooser
from layerloom.app.gui.training.remotes_dialog import RemotesDialog

STOP_WAIT_SECONDS = 30.0  # closing while training here: how long to wait for a clean stop
START_WAIT_SECONDS = 60.0  # closing while a remote start is under way: how long to let it land


class RemoteRunsMixin:
    session = None
    session_remote: str | None = None  # the remote the followed run trains on (None: here)
    pending: str | None = None  # "start" / "attach" while the host is being reached
    remotes_dialog: RemotesDialog | None = None

    def _build_remote_controls(self) -> None:
        self.chooser = BackendChooser()
        self.chooser.manage_requested.connect(self.show_remotes)
        self.attach_button = QPushButton("Attach")
        self.attach_button.setToolTip(
            "Follow the selected running run again (e.g. a remote run after the window closed)"
        )
        self.attach_button.clicked.connect(lambda: self.attach())
        self.stop_run_button = QPushButton("Stop Run")
        self.stop_run_button.setToolTip(
            "Ask the selected running run to stop after its current batch (resumable)"
        )
        self.stop_run_button.clicked.connect(lambda: self.stop_run())

    def show_remotes(self) -> RemotesDialog:
        """The Remotes dialog (one at a time, not modal: runs go on being followed)."""
        if self.remotes_dialog is None or not shiboken6.isValid(self.remotes_dialog):
            self.remotes_dialog = RemotesDialog(self.chooser.states, parent=self.window())
            self.remotes_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.remotes_dialog.remotes_changed.connect(self.chooser.reload)
        self.remotes_dialog.show()
        self.remotes_dialog.raise_()
        return self.remotes_dialog

    # --- start on a remote --------------------------------------------------------------------
    def _start_remote(self, remote: str, resume_run_id, overrides) -> bool:
        opened = self.opened
        self.pending = "start"
        self.progress.reset()
        self.progress.set_state("starting", f"connecting to {remote}…")

        def progress(line: str) -> None:
            if shiboken6.isValid(self) and self.opened is opened:
                self._log(line)
                self.progress.set_state("starting", line)

        def done(session, error) -> None:
            if not shiboken6.isValid(self) or self.opened is not opened:
                if session is not None:  # its project closed meanwhile: the job goes on
                    session.detach()
                return
            self.pending = None
            if error:
                self._refuse(error)
                self.refresh_runs()
                self.state_changed.emit()
                return
            self._follow(session, resume_run_id, remote)

        self._update_buttons()
        self.state_changed.emit()
        self.service.start_remote(opened, overrides, resume_run_id, remote, done, progress)
        return True

    # --- attach and stop runs nobody here follows ---------------------------------------------
    def can_attach(self) -> bool:
        run = self.selected_run()
        return (
            self.session is None
            and self.pending is None
            and run is not None
            and run.get("status") == "running"
        )

    def attach(self, run_id=None) -> bool:
        """Follow a running run (default: the selected one) from its last recorded event."""
        run = self.runs.run(run_id) if run_id is not None else self.selected_run()
        if run is None or self.session is not None or self.pending is not None:
            return False
        run_id, opened = run["id"], self.opened
        where = run.get("remote") or "this machine"
        self.pending = "attach"
        self._log(f"attaching to run #{run_id} on {where}…")
        self._update_buttons()
        self.state_changed.emit()

        def done(session, error) -> None:
            if not shiboken6.isValid(self) or self.opened is not opened:
                if session is not None:
                    session.detach()
                return
            self.pending = None
            if error:
                self._log(f"cannot attach to run #{run_id}: {error}")
                self.progress.set_state("refused", error)
                self._update_buttons()
                self.state_changed.emit()
                return
            self._follow(session, None, run.get("remote"), attached=True)

        self.service.attach(opened, run_id, done)
        return True

    def stop_run(self, run_id=None) -> bool:
        """Ask a running run nobody here follows (default: the selected one) to stop."""
        run = self.runs.run(run_id) if run_id is not None else self.selected_run()
        if run is None or run.get("status") != "running" or self.document.path is None:
            return False
        run_id = run["id"]
        if self.session is not None and self.session.run_id == run_id:
            self.stop()  # the one this panel follows: its Stop
            return True
        self._log(f"asking run #{run_id} to stop…")

        def done(said, error) -> None:
            if shiboken6.isValid(self):
                self._log(f"cannot stop run #{run_id}: {error}" if error else said)

        self.service.stop_run(self.document.path, run_id, done)
        return True

    # --- closing the document -----------------------------------------------------------------
    def release(self, ask: bool = True, confirm=None) -> bool:
        """Before the document closes: stop a running run cleanly (waiting for its last events
        and checkpoint) so it is recorded. ``confirm()`` may veto; returns False when vetoed.
        A remote run is detached instead, without asking: it goes on on its host."""
        if self.pending is not None:
            self._wait_for_pending_start()
        if self.session is not None and self.session_remote is not None:
            self._detach_remote()
            return True
        if self.session is None:
            return True
        if self._releasing:  # a second close while the first one waits
            return False
        if ask and confirm is not None and not confirm():
            return False
        self._releasing = True
        try:
            session = self.session
            session.cancel()
            self.progress.set_state("stopping")
            deadline = time.monotonic() + STOP_WAIT_SECONDS
            while not session.done and time.monotonic() < deadline:
                self.drain()
                if self.session is None:
                    break
                QApplication.processEvents()
                time.sleep(0.02)
            if self.session is not None:
                self._finish(self.session)  # close() kills a worker that did not stop
        finally:
            self._releasing = False
        return True

    # --- hooks the panel calls ----------------------------------------------------------------
    def _cancel_remote(self, session) -> None:
        def done(_result, error) -> None:
            if error and shiboken6.isValid(self):
                self._log(f"cannot reach the host to stop the run: {error}")

        self.service.cancel_remote(session, done)

    def _wait_for_pending_start(self) -> None:
        """Closing while a start reaches the host: let it land, so its job id is recorded."""
        deadline = time.monotonic() + START_WAIT_SECONDS
        while self.pending is not None and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.02)

    def _detach_remote(self) -> None:
        """Stop following the remote run; its job goes on (Attach follows it again)."""
        session, remote = self.session, self.session_remote
        self.timer.stop()
        self.drain()  # record what already arrived
        if self.session is None:  # it ended in that last drain
            return
        self.session = None
        self.session_remote = None
        session.detach()
        self.progress.set_state("idle")
        self._log(f"detached: run #{session.run_id} goes on on {remote}; Attach follows it again")
        self.refresh_runs()
        self.state_changed.emit()
