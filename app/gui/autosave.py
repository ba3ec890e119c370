"""Crash recovery: periodic snapshots of unsaved work, offered back at the next start.

While a document has unsaved changes, ``Autosaver`` writes its graph (``graph_to_dict``) and the
project's path as JSON to one file in the recovery folder every ``interval_ms``. The file goes away
when the document is saved or closed normally, so a file found at start-up means a crash. Each live
file is guarded by a ``QLockFile`` so a second Layerloom running at the same time does not mistake
the first one's snapshot for a crash.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import shiboken6
from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from layerloom.nodes.serialize import graph_to_dict

DEFAULT_INTERVAL_MS = 60_000
RECOVERY_FORMAT = 1


def default_recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:
        base = os.path.join(
            os.environ.get("XDG_STATE_HOME", os.path.expanduser("~/.local/state")), "layerloom"
        )
    return Path(base) / "recovery"


@dataclass(frozen=True)
class Recovery:
    """A snapshot left behind by a session that did not close normally."""

    file: Path
    project_path: Path | None
    graph: dict
    saved_at: float

    @property
    def label(self) -> str:
        name = self.project_path.name if self.project_path else "an untitled project"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        return f"{name} (unsaved changes from {when})"

    def discard(self) -> None:
        self.file.unlink(missing_ok=True)
        Path(str(self.file) + ".lock").unlink(missing_ok=True)


def _lock_for(file: Path) -> QLockFile:
    lock = QLockFile(str(file) + ".lock")
    lock.setStaleLockTime(0)  # stale only when the owning process is gone, never by age
    return lock


def find_recoveries(directory: Path | None = None) -> list[Recovery]:
    """Snapshots whose writer is gone (crashed), newest first; unreadable ones are removed."""
    directory = directory or default_recovery_dir()
    found = []
    for file in directory.glob("*.json") if directory.is_dir() else ():
        lock = _lock_for(file)
        if not lock.tryLock(0):
            continue  # another running Layerloom owns it
        lock.unlock()
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            path = data.get("path")
            found.append(
                Recovery(file, Path(path) if path else None, data["graph"], data["saved_at"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            file.unlink(missing_ok=True)
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


class Autosaver(QObject):
    def __init__(self, document, directory: Path | None = None, interval_ms: int | None = None):
        super().__init__()
        self.directory = Path(directory) if directory else default_recovery_dir()
        self.file = self.directory / f"{uuid.uuid4().hex}.json"
        self._lock = _lock_for(self.file)
        self._dirty = False
        self._detached = False
        self.document = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms or DEFAULT_INTERVAL_MS)
        self.timer.timeout.connect(self.save_now)
        self.set_document(document)
        self.timer.start()

    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._mark_dirty)
            self.document.undo_stack.cleanChanged.disconnect(self._on_clean_changed)
            self.discard()
        self.document = document
        self._dirty = document.modified
        document.changed.connect(self._mark_dirty)
        document.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _mark_dirty(self, _event=None) -> None:
        self._dirty = True

    def _on_clean_changed(self, clean: bool) -> None:
        # Qt emits this from the stack's destructor at exit too; the document is gone by then and
        # the window's close has already dealt with the snapshot.
        if clean and shiboken6.isValid(self.document.undo_stack):
            self.discard()

    def save_now(self) -> bool:
        """Write the snapshot if there is unsaved work not written yet; True when written."""
        if self._detached or not self.document.modified or not self._dirty:
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self._lock.isLocked():
            self._lock.tryLock(0)
        path = self.document.path
        payload = {
            "format": RECOVERY_FORMAT,
            "path": str(path) if path else None,
            "saved_at": time.time(),
            "graph": graph_to_dict(self.document.graph),
        }
        tmp = self.file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(payload), encoding="utf-8")
            os.replace(tmp, self.file)
        except OSError:
            return False  # a full disk must not interrupt editing; the next tick tries again
        self._dirty = False
        return True

    def discard(self) -> None:
        """Remove the snapshot (after a save, or on a normal close)."""
        if self._detached:
            return
        self.file.unlink(missing_ok=True)
        self._dirty = self.document is not None and self.document.modified
        if self._lock.isLocked():
            self._lock.unlock()

    def detach(self) -> None:
        """Stop and let go of the snapshot without removing it, as a crash would (for tests)."""
        self.timer.stop()
        self._detached = True
        if self._lock.isLocked():
            self._lock.unlock()

    def stop(self) -> None:
        self.timer.stop()
        self.discard()
