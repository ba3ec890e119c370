"""Work that waits on another machine (SSH), run off the GUI thread.

``run_off_thread(work, done, progress=None)`` calls ``work(report)`` on a Python thread; whatever
it passes to ``report(line)`` and its result or error reach the GUI thread through queued Qt
signals, as ``progress(line)`` and ``done(result, None)`` / ``done(None, message)``. The message is
one line: the workbench's errors already say what to do, and a traceback is never shown.

``Task.cancel()`` stops waiting: ``done`` and ``progress`` are not called any more. The work itself
goes on to its end on its daemon thread (an SSH command cannot be taken back half way); nothing it
does after that reaches the GUI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from layerloom.nodes.errors import LayerloomError

_running: set[Task] = set()  # a Task lives until its work ends, even if the caller drops it


def one_line(error: BaseException) -> str:
    """An error as the one line a user reads."""
    text = str(error).strip()
    if not isinstance(error, LayerloomError):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


class Task(QObject):
    _progress = Signal(str)
    _done = Signal(object, object)  # (result, one-line error)

    def __init__(self, done: Callable[[Any, str | None], None], progress=None) -> None:
        super().__init__()
        self.cancelled = False
        self.finished = False
        self._on_done = done
        self._on_progress = progress
        self._progress.connect(self._deliver_progress)
        self._done.connect(self._deliver_done)

    def cancel(self) -> None:
        self.cancelled = True

    def _deliver_progress(self, line: str) -> None:
        if not self.cancelled and self._on_progress is not None:
            self._on_progress(line)

    def _deliver_done(self, result, error) -> None:
        self.finished = True
        _running.discard(self)
        if not self.cancelled:
            self._on_done(result, error)


def run_off_thread(
    work: Callable[[Callable[[str], None]], Any],
    done: Callable[[Any, str | None], None],
    progress: Callable[[str], None] | None = None,
    name: str = "layerloom-remote",
) -> Task:
    task = Task(done, progress)
    _running.add(task)

    def body() -> None:
        try:
            result = work(task._progress.emit)
        except Exception as error:  # shown as one line; the GUI stays up
            task._done.emit(None, one_line(error))
        else:
            task._done.emit(result, None)

    threading.Thread(target=body, name=name, daemon=True).start()
    return task
