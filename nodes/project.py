"""The project store: one `.loom` file is one SQLite database, read and written here.

This module owns the file's life: creating it atomically, validating it before anything touches it,
migrating it forward, saving graph versions and settings (each save one transaction), and copying
it with Save As. A graph is an opaque JSON-able dict here (``nodes.graph`` turns it into a Graph).
The schema, the format version and the migrations live in ``nodes.project_schema``. Later features
(runs, metrics, checkpoints, exports) use ``Project.db``, a ``sqlite_utils.Database``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from layerloom.nodes import project_schema as schema
from layerloom.nodes.project_lock import BUSY_SECONDS, write_transaction

if TYPE_CHECKING:
    import sqlite_utils
from layerloom.nodes.errors import ProjectFileError
from layerloom.nodes.serialize import stored_graph

APPLICATION_ID = schema.APPLICATION_ID
SCHEMA_VERSION = schema.SCHEMA_VERSION

_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
# Files SQLite keeps next to a database while it is open or after a crash. Where one exists,
# SQLite's own recovery is the judge of the main file, not our header arithmetic.
_SIDECARS = ("-wal", "-journal")


class GraphVersion(NamedTuple):
    id: int
    created_at: str
    sha256: str
    message: str


def canonical_json(value: Any) -> str:
    """The one spelling of a JSON value that the store hashes: sorted keys, no spaces."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Project:
    """An open `.loom` project. Use ``create`` or ``open``; close it (or use ``with``)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, readonly: bool = False) -> None:
        self.path = path
        self.conn = conn  # reads go straight through it; writes through ``db``
        self.readonly = readonly  # opened with ``open_readonly``: every write is refused
        self._db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils view of the file, created on first write (its import costs ~0.2 s)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- opening and creating -------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, overwrite: bool = False) -> Project:
        """Create a new empty project at ``path``.

        The file is built under a temporary name in the same folder and moved into place, so a
        crash never leaves a half-made project, and ``overwrite`` replaces the old file atomically.
        Close any Project open on ``path`` before overwriting it: its -wal/-shm files are removed.
        """
        target = Path(path)
        _check_writable_target(target, overwrite, verb="create")
        with _atomic_file(target, verb="create") as tmp:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                _configure(conn)
                import sqlite_utils

                schema.initialise(sqlite_utils.Database(conn))
            finally:
                conn.close()
        return cls.open(target)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, keep_journal_mode: bool = False) -> Project:
        """Open an existing project, migrating an older format forward.

        Every check runs before the file is opened for writing, so a file that is refused
        (missing, not a project, truncated, damaged, from a newer Layerloom) is left untouched.
        ``keep_journal_mode``: write in the file's own journal mode, not WAL (docs/file-format.md).
        """
        target = Path(path)
        _validate(target)
        try:
            conn = sqlite3.connect(
                _uri(target, "rw"), uri=True, isolation_level=None, timeout=BUSY_SECONDS
            )
        except sqlite3.Error as exc:
            raise ProjectFileError(f"Cannot open {target} for writing: {exc}") from exc
        try:
            _configure(conn, keep_journal_mode=keep_journal_mode)
            project = cls(target, conn)
            project._migrate()
        except sqlite3.Error as exc:
            conn.close()
            raise ProjectFileError(f"Cannot open {target} for writing: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return project

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str]) -> Project:
        """Open a project only to read it: the file, its folder and its sidecars stay exactly as
        they were (no -wal/-shm created, no journal mode switched, no format upgrade), so it works
        on a read-only file in a read-only folder. Without a -wal or hot journal beside it, nothing
        is writing the file, and ``immutable=1`` reads it without taking locks or creating files;
        with one, a plain read-only connection lets SQLite see the latest commits. A file in an
        older format is read as it is (the graph tables have not changed); writes raise
        ProjectFileError.
        """
        target = Path(path)
        _validate(target)
        uri = _uri(target, "ro", immutable=not _has_sidecar(target))
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_SECONDS)
        except sqlite3.Error as exc:
            raise ProjectFileError(f"Cannot open {target}: {exc}") from exc
        return cls(target, conn, readonly=True)

    def _migrate(self) -> None:
        """Upgrade an older format in place; on failure the file stays at its old version."""
        if schema.read_user_version(self.conn) >= schema.SCHEMA_VERSION:
            return  # the common case; sqlite-utils is only needed to change tables
        try:
            schema.migrate(self.db)
        except sqlite3.Error as exc:
            raise ProjectFileError(
                f"Cannot upgrade {self.path} to format {schema.SCHEMA_VERSION}: {exc}"
            ) from exc

    # -- graph versions ---------------------------------------------------------------------------

    def save_graph(self, graph: dict, message: str = "") -> int:
        """Store ``graph`` as a new version and return its id, in one transaction.

        Saving the same graph as the latest version again adds nothing and returns that version's
        id, so autosave and repeated Ctrl+S do not pile up identical rows. A graph that is not
        JSON-able (NaN, sets, objects) raises TypeError/ValueError: a caller's bug, not the file's.
        """
        text = canonical_json(graph)
        digest = _sha256(text)
        with self._write("save the graph to"):
            latest = self.conn.execute(
                "SELECT id, sha256 FROM graph_versions ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if latest is not None and latest[1] == digest:
                return int(latest[0])
            table = self.db["graph_versions"]
            table.insert(
                {"created_at": _now(), "sha256": digest, "message": message, "graph": text}
            )
            return int(table.last_pk)

    def latest_graph(self) -> tuple[int, dict] | None:
        row = self.conn.execute("SELECT id FROM graph_versions ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return int(row[0]), self.graph(int(row[0]))

    def graph(self, version_id: int) -> dict:
        """The graph of one version, checked against the hash it was saved with."""
        # Read as bytes: damaged bytes that are not UTF-8 make sqlite3 raise while fetching a TEXT
        # value, before anything could name the file; decoded here, they are the file's fault.
        try:
            row = self.conn.execute(
                "SELECT CAST(graph AS BLOB), sha256 FROM graph_versions WHERE id = ?", [version_id]
            ).fetchone()
        except sqlite3.Error as exc:
            raise ProjectFileError(
                f"{self.path}: graph version {version_id} cannot be read ({exc})"
            ) from None
        if row is None:
            raise ProjectFileError(f"{self.path} has no graph version {version_id}")
        return stored_graph(self.path, version_id, row[0], row[1])

    def graph_versions(self) -> list[GraphVersion]:
        """Every stored version, oldest first."""
        rows = self.conn.execute(
            "SELECT id, created_at, sha256, message FROM graph_versions ORDER BY id"
        ).fetchall()
        return [GraphVersion(*row) for row in rows]

    # -- settings ---------------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        text = canonical_json(value)
        with self._write("save a setting to"):
            self.db["settings"].upsert({"key": key, "value": text}, pk="key")

    # -- copying and closing ----------------------------------------------------------------------

    def save_as(self, new_path: str | os.PathLike[str], *, overwrite: bool = False) -> Project:
        """Copy this project to ``new_path`` and return it open; ``self`` stays on the old file.

        SQLite's backup API gives a consistent snapshot even with uncheckpointed WAL pages; the
        copy is written under a temporary name next to the target, synced, then moved into place.
        """
        target = Path(new_path)
        if target.exists() and _same_file(target, self.path):
            raise ProjectFileError(f"Cannot save {self.path} as itself; choose another file name")
        _check_writable_target(target, overwrite, verb="save")
        with _atomic_file(target, verb="save") as tmp:
            dest = sqlite3.connect(tmp, isolation_level=None)
            try:
                self.conn.backup(dest)
                _configure(dest)
            finally:
                dest.close()
        return Project.open(target)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.path)!r})"

    def _write(self, doing: str) -> AbstractContextManager[None]:
        return write_transaction(self.conn, f"Cannot {doing} {self.path}")


# -- connection set-up ----------------------------------------------------------------------------


def _configure(conn: sqlite3.Connection, *, keep_journal_mode: bool = False) -> None:
    # WAL: a crash mid-save leaves the previous commit intact, and readers never block the writer.
    if not keep_journal_mode:
        conn.execute("PRAGMA journal_mode = WAL")
    # FULL (not NORMAL): with WAL, NORMAL can lose the last commits on power loss. A project save is
    # a user's explicit action and infrequent, so one fsync per commit is worth it. High-rate
    # writers (metrics) should batch rows into one transaction per epoch or per N events.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def _uri(path: Path, mode: str, *, immutable: bool = False) -> str:
    """A SQLite URI; ``mode=rw`` never creates a missing file, ``ro`` never writes one."""
    query = f"mode={mode}" + ("&immutable=1" if immutable else "")
    return f"{Path(os.path.abspath(path)).as_uri()}?{query}"


# -- validation before opening --------------------------------------------------------------------


def _validate(path: Path) -> None:
    """Raise ProjectFileError unless ``path`` is a readable project this version can open.

    Nothing here writes: the header is read as bytes, and the rest goes through a read-only
    connection that creates no -wal/-shm files next to a clean file.
    """
    _check_header(path)
    # Without a -wal or hot journal the main file is the whole truth, and immutable=1 reads it
    # without creating -shm/-wal files. With one, SQLite must see it to recover the last commits.
    uri = _uri(path, "ro", immutable=not _has_sidecar(path))
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise ProjectFileError(f"Cannot open {path}: {exc}") from exc
    try:
        _check_identity(path, conn)
        _check_integrity(path, conn)
        _check_tables(path, conn)
    except sqlite3.DatabaseError as exc:
        raise ProjectFileError(
            f"Cannot open {path}: the file is damaged ({exc}); restore it from a backup"
        ) from exc
    except UnicodeDecodeError as exc:
        # SQLite's own message quoted damaged bytes (a schema name that is not UTF-8).
        detail = exc.object.decode("utf-8", "replace") if isinstance(exc.object, bytes) else ""
        raise ProjectFileError(
            f"Cannot open {path}: the file is damaged ({detail}); restore it from a backup"
        ) from None
    finally:
        conn.close()


def _check_header(path: Path) -> None:
    if not path.exists():
        raise ProjectFileError(f"Cannot open {path}: the file does not exist")
    if path.is_dir():
        raise ProjectFileError(f"Cannot open {path}: it is a folder, not a project file")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.read(_HEADER_SIZE)
    except OSError as exc:
        raise ProjectFileError(f"Cannot open {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise ProjectFileError(f"Cannot open {path}: the file is empty, not a Layerloom project")
    if not header.startswith(_SQLITE_MAGIC):
        raise ProjectFileError(
            f"Cannot open {path}: not a Layerloom project (it is not a SQLite database)"
        )
    if len(header) < _HEADER_SIZE:
        raise _truncated(path, f"{size} bytes, shorter than its own header")
    expected = _expected_size(header)
    if expected is not None and size < expected and not _has_sidecar(path):
        raise _truncated(path, f"{size} bytes, its header says {expected}")


def _expected_size(header: bytes) -> int | None:
    """page_size * page_count from the header, or None where the header does not promise it."""
    page_size = int.from_bytes(header[16:18], "big")
    if page_size == 1:  # the format's encoding of 65536
        page_size = 65536
    page_count = int.from_bytes(header[28:32], "big")
    change_counter = header[24:28]
    valid_for = header[92:96]
    # The in-header page count is only trusted when written by SQLite >= 3.7.0, which keeps the
    # "version-valid-for" number equal to the change counter; older writers leave it stale.
    if page_count == 0 or change_counter != valid_for:
        return None
    return page_size * page_count


def _truncated(path: Path, detail: str) -> ProjectFileError:
    return ProjectFileError(
        f"Cannot open {path}: the file is truncated ({detail}); restore it from a backup"
    )


def _check_identity(path: Path, conn: sqlite3.Connection) -> None:
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id != schema.APPLICATION_ID:
        raise ProjectFileError(
            f"Cannot open {path}: it is a SQLite database but not a Layerloom project"
        )
    version = schema.read_user_version(conn)
    if version > schema.SCHEMA_VERSION:
        raise ProjectFileError(
            f"Cannot open {path}: it was written by a newer version of Layerloom (format "
            f"{version}; this version reads up to {schema.SCHEMA_VERSION}); update Layerloom to "
            "open it"
        )


# The tables every project of format 1 or later has (a format 0 file is migrated: it gets them).
_TABLES = ("graph_versions", "settings", "runs", "metrics", "checkpoints", "exports")


def _check_tables(path: Path, conn: sqlite3.Connection) -> None:
    if schema.read_user_version(conn) < 1:
        return
    found = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [name for name in _TABLES if name not in found]
    if missing:
        raise ProjectFileError(
            f"Cannot open {path}: it is marked as a Layerloom project but lacks its tables "
            f"({', '.join(missing)}); restore it from a backup"
        )


def _check_integrity(path: Path, conn: sqlite3.Connection) -> None:
    # quick_check verifies every page's structure in O(file size) without the index cross-check
    # that makes integrity_check slow on big files full of checkpoints.
    # Its rows quote the damaged bytes, which need not be UTF-8: decode them leniently.
    factory = conn.text_factory
    conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    finally:
        conn.text_factory = factory
    # Each problem is "*** in database main ***\nOn tree page 16 cell 0: ..."; keep one line.
    problems = [
        " ".join(str(row[0]).replace("*** in database main ***", "").split())
        for row in rows
        if row[0] != "ok"
    ]
    if problems:
        more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
        raise ProjectFileError(
            f"Cannot open {path}: the file is damaged ({problems[0]}{more});"
            " restore it from a backup"
        )


# -- writing whole files --------------------------------------------------------------------------


def _check_writable_target(target: Path, overwrite: bool, *, verb: str) -> None:
    if target.is_dir():
        raise ProjectFileError(f"Cannot {verb} {target}: it is a folder")
    if target.exists() and not overwrite:
        raise ProjectFileError(f"Cannot {verb} {target}: the file already exists")
    if not target.parent.is_dir():
        raise ProjectFileError(f"Cannot {verb} {target}: the folder {target.parent} does not exist")


@contextmanager
def _atomic_file(target: Path, *, verb: str) -> Iterator[str]:
    """Yield a temporary path next to ``target``; on success sync it and move it over ``target``.

    On any failure the temporary file (and any SQLite sidecars of it) is removed and ``target`` is
    left as it was.
    """
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        # O_EXCL: never reuse a stranger's file; 0o666 lets the umask give normal permissions.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        yield str(tmp)
        _fsync_file(tmp)
        # A -wal/-shm left by a crashed session belongs to the OLD file: SQLite would replay it onto
        # the new one. Remove them before the new file takes the name.
        for suffix in ("-wal", "-shm", "-journal"):
            _sidecar(target, suffix).unlink(missing_ok=True)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        raise ProjectFileError(f"Cannot {verb} {target}: {exc.strerror or exc}") from exc
    except sqlite3.Error as exc:
        raise ProjectFileError(f"Cannot {verb} {target}: {exc}") from exc
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(OSError):
                _sidecar(tmp, suffix).unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # Windows' fsync needs a handle open for writing
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; Windows cannot open a folder for fsync and does not need it."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _has_sidecar(path: Path) -> bool:
    return any(_sidecar(path, suffix).exists() for suffix in _SIDECARS)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
