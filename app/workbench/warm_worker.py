"""The GUI's warm TensorFlow worker (``backends.warm``): held while a project is open.

Every open project document holds it; the first hold starts a warm worker in the background (its
TensorFlow import overlaps the user's reading and editing), the last release ends it. Local jobs
whose device and import-time settings match it then start in under a second; others start cold.
A second warm worker, for exports (``export_process.EXPORT_POOL``), is held and released with it.
``LAYERLOOM_WARM_WORKER=0`` turns it off. The CLI does not use it: a one-shot command gains
nothing from a worker started ahead.
"""

from __future__ import annotations

import threading

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.export_process import EXPORT_POOL
from layerloom.backends.warm import WARM_POOL, warm_workers_wanted
from layerloom.nodes import training

_lock = threading.Lock()
_holders = 0


def hold(opened: OpenProject | None = None) -> bool:
    """One more open project wants a warm worker; True when warm workers are on. The worker sees
    the devices ``opened``'s training settings choose (a later change of device starts cold)."""
    global _holders
    if not warm_workers_wanted():
        return False
    with _lock:
        _holders += 1
        first = _holders == 1
    if first:
        WARM_POOL.start(device=device_for(opened))
        EXPORT_POOL.start()
    return True


def device_for(opened: OpenProject | None) -> str:
    """The device a warm worker held for ``opened`` sees; a job for another device starts cold."""
    if opened is None:
        return "auto"
    try:
        return str(training.load(opened.project).get("device", "auto"))
    except training.SettingsError:
        return "auto"


def release() -> None:
    """A project that held the warm worker closed; the last release ends the waiting worker."""
    global _holders
    with _lock:
        _holders = max(0, _holders - 1)
        last = _holders == 0
    if last:
        WARM_POOL.shutdown()
        EXPORT_POOL.shutdown()


def shutdown() -> None:
    """End the warm worker whoever holds it (the application exits)."""
    global _holders
    with _lock:
        _holders = 0
    WARM_POOL.shutdown()
    EXPORT_POOL.shutdown()


def waiting_worker_pid() -> int | None:
    """The waiting warm worker's process id, if one has started (tests look at it)."""
    worker = WARM_POOL.current()
    return worker.process.pid if worker is not None else None


def waiting_worker_ready() -> bool:
    worker = WARM_POOL.current()
    return worker is not None and worker.ready
