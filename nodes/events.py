"""The one event protocol every Layerloom worker speaks (training, evaluation, export).

An event is one line of JSON: ``{"seq": n, "type": t, "time": unix seconds, ...fields}``. ``seq``
starts at 1 and grows by one per event, so a reader that lost its connection asks for everything
after the last ``seq`` it recorded and gets no gap and no duplicate. Each worker declares its own
event types and their required fields as an ``EventTypes``; ``backends.protocol`` (training) and
``exporters.job`` (export) are the two today.

A worker writes each event to its stdout (read live by the local backend) and appends it to
``events.jsonl`` in its job folder (read by a reader that attaches later, or over SSH). A line is
complete only with its newline: ``EventLog.read_after`` never returns a half-written last line.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from layerloom.nodes.errors import LayerloomError

Event = dict[str, Any]
EVENT_LOG = "events.jsonl"


class ProtocolError(LayerloomError):
    """A job file or an event line that does not follow the protocol."""


@dataclass(frozen=True)
class EventTypes:
    """One worker's vocabulary: each type's required fields, and which types end the stream."""

    required: Mapping[str, tuple[str, ...]]
    terminal: frozenset[str]
    # (type, field) -> the values that field may take, e.g. a finished event's status.
    allowed: Mapping[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)

    def check(self, event: Any) -> Event:
        """Return ``event`` when it is well-formed; ProtocolError names what is wrong."""
        if not isinstance(event, dict):
            raise ProtocolError(f"an event must be a JSON object, got {type(event).__name__}")
        seq, type_ = event.get("seq"), event.get("type")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ProtocolError(f"event seq must be a positive integer, got {seq!r}")
        if type_ not in self.required:
            raise ProtocolError(f"unknown event type {type_!r}")
        if not isinstance(event.get("time"), (int, float)):
            raise ProtocolError(f"{type_} event {seq} has no time")
        missing = [name for name in self.required[type_] if name not in event]
        if missing:
            raise ProtocolError(f"{type_} event {seq} is missing {', '.join(missing)}")
        for (kind, name), values in self.allowed.items():
            if kind == type_ and event[name] not in values:
                raise ProtocolError(f"{type_} event {seq} has unknown {name} {event[name]!r}")
        return event

    def make(self, seq: int, type_: str, **fields: Any) -> Event:
        event: Event = {"seq": seq, "type": type_, "time": round(time.time(), 3)}
        event.update(fields)
        return self.check(event)

    def parse(self, line: str | bytes) -> Event:
        if isinstance(line, bytes):
            line = line.decode("utf-8", errors="replace")
        try:
            data = json.loads(line)
        except ValueError as error:
            raise ProtocolError(f"not a JSON event line: {line[:80]!r}") from error
        return self.check(data)

    def is_terminal(self, event: Event) -> bool:
        return event["type"] in self.terminal


def serialise(event: Event) -> str:
    """One line of JSON; NaN/inf (a diverged loss) become null so every reader can parse it."""
    return json.dumps(_finite(event), separators=(",", ":"), allow_nan=False, default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class EventWriter:
    """Numbers events and writes one flushed line each to every sink; safe from several threads.

    Keras runs batch callbacks on a thread pool, so numbering and writing share one lock: the
    stream's seq order is its line order. A sink that breaks (the reader of stdout went away) is
    dropped and the others go on, so the event log in the job folder stays complete.
    """

    def __init__(self, types: EventTypes, *sinks: IO[str], first_seq: int = 1) -> None:
        self.types = types
        self._sinks = list(sinks)
        self._next = first_seq
        self._lock = threading.Lock()
        self.closed = False  # set after a terminal event: later writes are dropped
        self.lost_sinks = 0  # how many sinks broke; the worker stops cleanly when its reader left

    def emit(self, type_: str, **fields: Any) -> Event | None:
        with self._lock:
            if self.closed:
                return None
            event = self.types.make(self._next, type_, **fields)
            line = serialise(event) + "\n"
            for sink in list(self._sinks):
                try:
                    sink.write(line)
                    sink.flush()
                except (BrokenPipeError, OSError, ValueError):
                    self._sinks.remove(sink)
                    self.lost_sinks += 1
            self._next += 1
            if type_ in self.types.terminal:
                self.closed = True
            return event

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=message)


class EventLog:
    """The ``events.jsonl`` file of a job folder, read from a sequence number on."""

    def __init__(self, path: str | Path, types: EventTypes) -> None:
        self.path = Path(path)
        self.types = types

    def read_after(self, after: int = 0) -> list[Event]:
        """Every complete event with ``seq > after`` (a half-written last line is left for later)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return events_after(data, after, self.types)


def events_after(data: bytes, after: int, types: EventTypes) -> list[Event]:
    """The complete events in ``data`` (JSON Lines) whose seq is above ``after``, in order."""
    complete = data[: data.rfind(b"\n") + 1]
    out: list[Event] = []
    for raw in complete.splitlines():
        if not raw.strip():
            continue
        try:
            event = types.parse(raw)
        except ProtocolError:
            continue  # not an event line; the worker's log has whatever wrote it
        if event["seq"] > after:
            out.append(event)
    return out


class EventBuffer:
    """Every event a reader received, so any consumer can replay them from a seq on.

    One thread ``add``s (the reader of a pipe, a log tailer, a worker thread); consumers call
    ``after(seq)`` (never waits) or ``iterate(after)`` (waits for more until the stream ends).
    Duplicates (a replayed line) are dropped by seq, so consumers never see one twice.
    """

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._ended = False
        self._changed = threading.Condition()

    @property
    def last_seq(self) -> int:
        with self._changed:
            return self._events[-1]["seq"] if self._events else 0

    @property
    def ended(self) -> bool:
        return self._ended

    def add(self, event: Event) -> bool:
        with self._changed:
            if self._ended or (self._events and event["seq"] <= self._events[-1]["seq"]):
                return False
            self._events.append(event)
            self._changed.notify_all()
            return True

    def end(self) -> None:
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def after(self, seq: int) -> list[Event]:
        with self._changed:
            return [e for e in self._events if e["seq"] > seq]

    def iterate(self, after: int = 0, timeout: float | None = None) -> Iterator[Event]:
        """Events with seq above ``after`` as they come, until the stream ends. ``timeout``:
        seconds to wait for each one (TimeoutError when none came)."""
        position = after
        while True:
            with self._changed:
                pending = [e for e in self._events if e["seq"] > position]
                if not pending:
                    if self._ended:
                        return
                    if not self._changed.wait(timeout) and timeout is not None:
                        raise TimeoutError(f"no event within {timeout} s")
                    continue
            for event in pending:
                position = event["seq"]
                yield event


class FollowsBuffer:
    """``events`` and ``poll`` over ``self.buffer`` (an ``EventBuffer``): what every handle on a
    job offers its reader, whatever fills the buffer (a pipe, a log tail, a thread)."""

    buffer: EventBuffer
    _polled: int = 0  # the seq the last ``poll`` returned up to

    def events(self, after: int = 0, timeout: float | None = None) -> Iterator[Event]:
        """Events with seq above ``after``, then the rest as they come until the stream ends.
        ``timeout``: seconds to wait for each one."""
        return self.buffer.iterate(after, timeout)

    def poll(self) -> list[Event]:
        """Every event that arrived since the last ``poll``, without waiting."""
        new = self.buffer.after(self._polled)
        if new:
            self._polled = new[-1]["seq"]
        return new
