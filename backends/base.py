"""The seam between the workbench and wherever training runs: ``Backend`` and ``RunHandle``.

The workbench (``app.workbench.training``) knows only these two protocols. A backend is one module
that implements them; ``backends.registry`` names the ones there are. A job (``protocol.Job``)
goes in, and a ``RunHandle`` comes back: the job's events as a stream that can resume after any
sequence number, a resumable stop, wait, and the files the job produced (checkpoints) by the names
its events give them. ``attach`` finds a job again by its id, from this process or a later one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from layerloom.backends.protocol import Event, Job


class JobState(StrEnum):
    """What a backend knows of a job. Only ``ENDED`` is proof that nothing runs any more."""

    RUNNING = "running"
    ENDED = "ended"
    UNKNOWN = "unknown"  # e.g. a host that cannot be reached right now


@dataclass(frozen=True)
class BackendInfo:
    """What a backend offers, as the run records and the GUI's backend chooser show it."""

    name: str  # the backend's registry name: "local", "inprocess", or a remote's name
    host: str
    accelerators: tuple[str, ...] = ("cpu",)  # e.g. ("cpu", "gpu:0")
    keras_backends: tuple[str, ...] = ("tensorflow",)
    device_count: int = 1
    details: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class RunHandle(Protocol):
    """One job, started or attached to."""

    job_id: str

    def events(self, after: int = 0, timeout: float | None = None) -> Iterator[Event]:
        """Events with seq above ``after`` (no gap, no duplicate), then the rest as they come,
        until the terminal one. ``timeout``: seconds to wait for each (TimeoutError)."""
        ...

    def poll(self) -> list[Event]:
        """The events that arrived since the last ``poll``; never waits."""
        ...

    def stop(self) -> None:
        """Ask the job to stop resumably: it checkpoints and ends with status ``cancelled``."""
        ...

    def kill(self) -> None:
        """End the job now, without a checkpoint."""
        ...

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the job to end; its exit code where the backend knows one."""
        ...

    def state(self) -> JobState: ...

    def fetch(self, name: str) -> bytes:
        """A file the job produced, by the name its events give it (relative to the job)."""
        ...

    def detach(self) -> None:
        """Stop following the job without stopping it. A remote job goes on by design and
        ``attach`` finds it again; a local worker whose reader has gone stops itself cleanly
        (checkpointed, ``cancelled``) once its orchestrator exits, its event log complete."""
        ...

    def close(self) -> None:
        """Release what this handle holds (ends a job still running, removes its folder)."""
        ...


@runtime_checkable
class Backend(Protocol):
    """Somewhere jobs run."""

    name: str

    def info(self) -> BackendInfo: ...

    def check(self) -> None:
        """Raise LayerloomError, saying why, when no job can start here now (a host that cannot
        be reached or trusted); called before a run is recorded, so a refusal records nothing."""
        ...

    def start(self, job: Job, files: Mapping[str, bytes] | None = None) -> RunHandle:
        """Start ``job`` with ``files`` placed in its job folder first (a checkpoint to resume
        from, by the names the job refers to). The backend chooses the folder and the job id."""
        ...

    def attach(self, job_id: str) -> RunHandle:
        """A handle on a job this backend started, from this process or an earlier one."""
        ...

    def state(self, job_id: str | None) -> JobState:
        """Whether the job still runs; ``ENDED`` for a job this backend cannot find."""
        ...
