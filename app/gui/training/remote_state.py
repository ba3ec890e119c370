"""What the GUI knows of each configured remote: unchecked, checking…, ready (with the devices the
host reported) or the one-line reason it cannot be used.

One ``RemoteStates`` per application (``remote_states()``), so a Check in the Remotes dialog also
updates the Training panel's backend chooser. ``check(name)`` asks the workbench
(``check_remote``: SSH to the host, its key verified, its runtime probed) on a worker thread;
``changed(name)`` fires when a state changes, on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from layerloom.app.gui.training.offthread import Task, run_off_thread
from layerloom.app.workbench import remotes as workbench_remotes

UNCHECKED, CHECKING, READY, FAILED = "unchecked", "checking", "ready", "failed"


@dataclass(frozen=True)
class RemoteState:
    state: str = UNCHECKED
    text: str = "not checked yet"
    found: dict | None = None  # what check_remote reported

    @property
    def short(self) -> str:
        """For a chooser item: 'ready, cpu ×1', 'checking…', 'not reachable'."""
        if self.state == READY and self.found:
            return (
                f"ready, {self.found.get('accelerator', '?')} ×{self.found.get('device_count', 1)}"
            )
        if self.state == FAILED:
            return "cannot be used"
        return {CHECKING: "checking…", UNCHECKED: "not checked"}.get(self.state, self.state)


def describe_check(found: dict) -> str:
    """'ready: cpu, 1 device, Layerloom 0.1.0'."""
    count = int(found.get("device_count") or 1)
    devices = f"{count} device{'s' if count != 1 else ''}"
    return f"ready: {found.get('accelerator', '?')}, {devices}, Layerloom {found.get('layerloom')}"


class RemoteStates(QObject):
    changed = Signal(str)  # a remote's name

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[str, RemoteState] = {}
        self.tasks: dict[str, Task] = {}

    def state(self, name: str) -> RemoteState:
        return self.states.get(name, RemoteState())

    def checking(self, name: str) -> bool:
        return self.state(name).state == CHECKING

    def check(self, name: str) -> None:
        """Check ``name`` off the GUI thread (a check already under way is not repeated)."""
        if self.checking(name):
            return
        self._set(name, RemoteState(CHECKING, "checking…"))

        def done(found, error) -> None:
            self.tasks.pop(name, None)
            if error:
                self._set(name, RemoteState(FAILED, error))
            else:
                self._set(name, RemoteState(READY, describe_check(found), found))

        self.tasks[name] = run_off_thread(
            lambda _report: workbench_remotes.check_remote(name), done, name="layerloom-check"
        )

    def forget(self, name: str) -> None:
        """A removed (or replaced) remote: drop what was known, ignore a check under way."""
        task = self.tasks.pop(name, None)
        if task is not None:
            task.cancel()
        if self.states.pop(name, None) is not None:
            self.changed.emit(name)

    def _set(self, name: str, state: RemoteState) -> None:
        self.states[name] = state
        self.changed.emit(name)


_STATES: RemoteStates | None = None


def remote_states() -> RemoteStates:
    global _STATES
    if _STATES is None:
        _STATES = RemoteStates()
    return _STATES
