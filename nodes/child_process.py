"""What every Layerloom child process (training worker, export worker) does with its streams and
its failures. No TensorFlow here.

stdout carries JSON-Lines events only: ``claim_stdout`` keeps the real stdout for them and points
file descriptor 1 at stderr, so TensorFlow's C++ chatter and any stray ``print`` cannot corrupt the
stream. ``describe_failure`` turns any exception into one line a user can act on.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from layerloom.nodes.errors import LayerloomError

OUT_OF_MEMORY = "out of memory while training: reduce the batch size (or the model)"


def claim_stdout() -> IO[str]:
    """A text stream on the real stdout for events; fd 1 (and ``sys.stdout``) now go to stderr."""
    sys.stdout.flush()
    events_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(events_fd, "w", encoding="utf-8", buffering=1)


def describe_failure(error: BaseException, out_of_memory: str = OUT_OF_MEMORY) -> str:
    """One line a user can act on; never a traceback."""
    name = type(error).__name__
    if isinstance(error, MemoryError) or name in ("ResourceExhaustedError", "OutOfMemoryError"):
        return out_of_memory
    message = str(error).strip()
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    if "out of memory" in message.lower() or "OOM when allocating" in message:
        return out_of_memory
    if isinstance(error, LayerloomError):
        return first or name
    if len(first) > 300:
        first = first[:297] + "..."
    return f"{name}: {first}" if first else name


def signal_group(process: Any, sig: signal.Signals) -> None:
    """Send ``sig`` to a child started with ``start_new_session`` and everything it started."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` of a child's stderr log ("" when it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class EventQueue:
    """Events from a child's reader thread, for two kinds of reader: ``poll()`` never waits (a GUI
    timer), ``events()`` blocks until the stream ends (the CLI). ``end()`` marks that end."""

    def __init__(self) -> None:
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._done = False

    def put(self, event: dict[str, Any]) -> None:
        self._queue.put(event)

    def end(self) -> None:
        self._queue.put(None)

    @property
    def finished(self) -> bool:
        return self._done

    def poll(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while not self._done:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._done = True
            else:
                out.append(item)
        return out

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Events as they come until the end; ``timeout``: seconds to wait for each one."""
        while not self._done:
            item = self._queue.get(timeout=timeout)
            if item is None:
                self._done = True
                return
            yield item


def signal_name(returncode: int) -> str:
    """ "SIGKILL" for a child that exited with -9; "signal N" for a number Python does not name."""
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


class ChildProcess:
    """A started child whose stdout carries events: a reader thread (the subclass's ``_read``)
    queues them for ``poll()`` (a GUI timer) or ``events()`` (the CLI); stderr is in ``log_path``.
    Subclasses set their own state before calling this ``__init__``, which starts the reader."""

    def __init__(self, process: Any, log_path: Path, thread_name: str) -> None:
        self.process = process
        self.log_path = log_path
        self._events = EventQueue()
        self._reader = threading.Thread(target=self._read, name=thread_name, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        raise NotImplementedError

    def poll(self) -> list[dict[str, Any]]:
        """Every event that has arrived, without waiting."""
        return self._events.poll()

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Events as they come, until the stream ends. ``timeout``: seconds to wait for each one."""
        return self._events.events(timeout)

    @property
    def finished(self) -> bool:
        return self._events.finished

    def _signal(self, sig: signal.Signals) -> None:
        signal_group(self.process, sig)

    def wait(self, timeout: float | None = None) -> int:
        """The child's exit code (negative: the signal that ended it)."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        return code

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)
