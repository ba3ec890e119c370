"""The one child-process stack of every Layerloom worker (training, evaluation, export): how a
worker claims its streams, how its failures read, and ``ChildProcess``, the orchestrator's side of
a running worker. No TensorFlow here.

stdout carries JSON-Lines events only: ``claim_stdout`` keeps the real stdout for them and points
file descriptor 1 at stderr, so TensorFlow's C++ chatter and any stray ``print`` cannot corrupt the
stream. ``describe_failure`` turns any exception into one line a user can act on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.events import EventBuffer, EventTypes, FollowsBuffer, ProtocolError

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


def signal_name(returncode: int) -> str:
    """ "SIGKILL" for a child that exited with -9; "signal N" for a number Python does not name."""
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


# How a child is asked to stop: (signal, seconds to wait for it to exit) in order; the last
# step's wait is not awaited by ``stop``.
StopSteps = tuple[tuple[signal.Signals, float], ...]


class ChildProcess(FollowsBuffer):
    """One worker child, for training, evaluation and export alike.

    It runs ``python -m MODULE JOB`` in its own session (a terminal's Ctrl-C reaches the
    orchestrator, which decides what to stop) with stderr in ``log_path``. A reader thread parses
    its stdout with the worker's ``EventTypes`` into an ``EventBuffer``: ``poll()`` never waits (a
    GUI timer), ``events(after=seq)`` replays from any sequence number and then waits for more (the
    CLI, a re-attached reader). A child that dies without a terminal event gets one synthesised
    ``failed`` event whose reason ``describe_exit`` words from the exit code or signal.
    """

    def __init__(
        self,
        command: list[str],
        log_path: Path,
        types: EventTypes,
        describe_exit: Callable[[int], str],
        *,
        env: dict[str, str] | None = None,
        stop_steps: StopSteps,
        thread_name: str = "layerloom-events",
        process: subprocess.Popen | None = None,
    ) -> None:
        self.log_path = log_path
        self.types = types
        self.describe_exit = describe_exit
        self.stop_steps = stop_steps
        self.buffer = EventBuffer()
        self._stopping = threading.Event()
        if process is not None:  # started earlier, the same way (a warm worker: backends.warm)
            self.process = process
        else:
            env = dict(os.environ if env is None else env)
            env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            env["PYTHONUNBUFFERED"] = "1"
            with open(log_path, "ab") as log:
                self.process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    env=env,
                    start_new_session=True,
                )
        self._reader = threading.Thread(target=self._read, name=thread_name, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        """Parse stdout into the buffer; at EOF, make sure the stream ends with a terminal event."""
        terminal = False
        stream: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        for raw in stream:
            if not raw.strip():
                continue
            try:
                event = self.types.parse(raw)
            except ProtocolError as error:
                # Stray output is shown, not fatal: the worker keeps stdout for events, so this
                # means something wrote around it (a native library).
                if "log" not in self.types.required:
                    continue
                event = self.types.make(
                    self.buffer.last_seq + 1, "log", level="warning", message=str(error)
                )
            terminal = terminal or self.types.is_terminal(event)
            self.buffer.add(event)
        returncode = self.process.wait()
        if not terminal:
            self.buffer.add(
                self.types.make(
                    self.buffer.last_seq + 1,
                    "failed",
                    reason=self.describe_exit(returncode),
                    returncode=returncode,
                    detail=self.log_tail(),
                )
            )
        self.buffer.end()

    @property
    def finished(self) -> bool:
        return self.buffer.ended

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Ask the child to stop with the first step's signal, escalating in the background."""
        if not self.alive() or self._stopping.is_set():
            return
        self._stopping.set()
        first, *rest = self.stop_steps
        self._signal(first[0])
        if rest:
            threading.Thread(
                target=self._escalate, args=(first[1], rest), name="layerloom-stop", daemon=True
            ).start()

    def _escalate(self, wait: float, steps: list[tuple[signal.Signals, float]]) -> None:
        for sig, next_wait in steps:
            try:
                self.process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                self._signal(sig)
                wait = next_wait

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        signal_group(self.process, sig)

    def wait(self, timeout: float | None = None) -> int:
        """The child's exit code (negative: the signal that ended it)."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        return code

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)
