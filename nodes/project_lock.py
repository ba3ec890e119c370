"""Waiting for a project file that another process holds: every write to a `.loom` file goes
through ``write_transaction``, which takes SQLite's write lock up front and, when another process
holds it, waits (saying so once) instead of failing after SQLite's default 5 s: a CLI that gave up
there used to abandon its own training worker.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from layerloom.nodes.errors import ProjectFileError

# How long a write waits for another process's lock on the file (Layerloom's own transactions
# last milliseconds; a long one is another program, e.g. a sqlite3 shell inside BEGIN). After
# LOCK_NOTICE_SECONDS the wait is announced once through ``lock_notice``.
BUSY_SECONDS = 1.0
LOCK_WAIT_SECONDS = 120.0
LOCK_NOTICE_SECONDS = 1.0


def _notice_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Where "waiting for PATH (locked by another process)…" goes; a face may replace it.
lock_notice: Callable[[str], None] = _notice_on_stderr


def _database_path(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row and row[2] else "the project file"


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting up to LOCK_WAIT_SECONDS for another process's write lock and
    saying so once (a CLI must not look hung, nor give up after SQLite's default 5 s)."""
    start = time.monotonic()
    told = False
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            waited = time.monotonic() - start
            if waited >= LOCK_WAIT_SECONDS:
                raise sqlite3.OperationalError(
                    f"the file stayed locked by another process for {waited:.0f} s"
                ) from exc
            if not told and waited >= LOCK_NOTICE_SECONDS:
                lock_notice(f"waiting for {_database_path(conn)} (locked by another process)…")
                told = True
            time.sleep(0.05)  # the connection's own busy timeout already waited BUSY_SECONDS


@contextmanager
def write_transaction(conn: sqlite3.Connection, failure: str) -> Iterator[None]:
    """One write transaction on a project file; SQLite failures (disk full, locked) become one
    readable ProjectFileError line starting with ``failure``. Everything that writes uses it."""
    try:
        # IMMEDIATE takes the write lock up front: a read-then-insert cannot race another writer,
        # and a busy file waits here rather than failing halfway through.
        _begin_immediate(conn)
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise ProjectFileError(f"{failure}: {exc}") from exc
