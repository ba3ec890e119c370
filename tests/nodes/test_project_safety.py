"""The project file under attack: bad files refused untouched, and a save killed mid-write."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layerloom.nodes.errors import LayerloomError, ProjectFileError
from layerloom.nodes.project import SCHEMA_VERSION, Project
from tests.nodes._save_forever import big_graph
from tests.nodes.project_examples import (
    EXAMPLE_GRAPH,
    small_graph,
)

# -- files that must be refused, untouched -------------------------------------------------------


def _make_project_with_pages(path: Path) -> None:
    """A closed project several pages long (a few graphs with overflow pages)."""
    with Project.create(path) as p:
        for n in (50, 100, 150):
            p.save_graph(small_graph(n))


def _missing(path: Path) -> None:
    pass


def _folder(path: Path) -> None:
    path.mkdir()


def _text(path: Path) -> None:
    path.write_text("name,value\nlayers,3\n")


def _png(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _other_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()


def _truncated(path: Path) -> None:
    _make_project_with_pages(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 123])


def _truncated_header(path: Path) -> None:
    _make_project_with_pages(path)
    path.write_bytes(path.read_bytes()[:60])


def _corrupt_page(path: Path) -> None:
    _make_project_with_pages(path)
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'graph_versions'")
    root_page = root.fetchone()[0]
    conn.close()
    with path.open("r+b") as fh:
        fh.seek((root_page - 1) * page_size)
        fh.write(b"\xab" * page_size)


def _broken_overflow_chain(path: Path) -> None:
    """Damage that reads fine page by page and only quick_check's walk of the chain finds."""
    _make_project_with_pages(path)
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        overflow = conn.execute("SELECT pageno FROM dbstat WHERE pagetype = 'overflow'").fetchone()
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table to find an overflow page with")
    finally:
        conn.close()
    with path.open("r+b") as fh:
        fh.seek((overflow[0] - 1) * page_size)  # an overflow page starts with the next page number
        fh.write((99_999).to_bytes(4, "big"))


def _newer(path: Path) -> None:
    _make_project_with_pages(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 2}")
    conn.close()


BAD_FILES = {
    "missing": (_missing, "does not exist"),
    "folder": (_folder, "is a folder"),
    "text": (_text, "not a SQLite database"),
    "png": (_png, "not a SQLite database"),
    "empty": (_empty, "is empty"),
    "other sqlite": (_other_sqlite, "not a Layerloom project"),
    "truncated": (_truncated, "is truncated"),
    "truncated header": (_truncated_header, "is truncated"),
    "corrupt page": (_corrupt_page, "is damaged"),
    "broken overflow chain": (_broken_overflow_chain, "is damaged (On tree page"),
    "newer": (
        _newer,
        f"was written by a newer version of Layerloom (format {SCHEMA_VERSION + 2}; "
        f"this version reads up to {SCHEMA_VERSION}); "
        "update Layerloom to open it",
    ),
}


def _snapshot(path: Path) -> tuple:
    """Everything open() could change: the folder listing, and the file's bytes and mtime."""
    if path.is_file():
        content = (path.read_bytes(), path.stat().st_mtime_ns)
    elif path.is_dir():
        content = (sorted(os.listdir(path)), path.stat().st_mtime_ns)
    else:
        content = None
    return sorted(os.listdir(path.parent)), content


@pytest.mark.parametrize("make, phrase", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_with_one_line_and_left_untouched(
    tmp_path: Path, make, phrase: str
) -> None:
    path = tmp_path / "model.loom"
    make(path)
    before = _snapshot(path)
    with pytest.raises(ProjectFileError) as info:
        Project.open(path)
    message = str(info.value)
    assert isinstance(info.value, LayerloomError)
    assert str(path) in message
    assert phrase in message
    assert "\n" not in message
    assert _snapshot(path) == before  # same bytes, same mtime, no -wal/-shm left behind


# -- crash safety ---------------------------------------------------------------------------------


def test_killed_mid_save_the_project_still_opens_with_a_complete_version(tmp_path: Path) -> None:
    path = tmp_path / "model.loom"
    with Project.create(path) as p:
        original = p.save_graph(EXAMPLE_GRAPH, "original")
    rng = random.Random(20250101)
    env = dict(os.environ)
    helper = Path(__file__).parent / "_save_forever.py"
    started = time.monotonic()
    checked: set[int] = set()  # versions already proven whole by an earlier round
    for attempt in range(5):
        first_generation = attempt * 1000
        proc = subprocess.Popen(
            [sys.executable, str(helper), str(path), str(first_generation)],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        try:
            assert proc.stdout.readline().strip() == "started"
            time.sleep(rng.uniform(0.05, 0.35))
        finally:
            proc.kill()  # SIGKILL on POSIX: no cleanup, no checkpoint
            proc.wait()
            proc.stdout.close()
        with Project.open(path) as p:  # opens cleanly (quick_check passes)
            versions = p.graph_versions()
            assert versions[0].id == original
            for version in versions:  # every stored version is whole
                if version.id in checked:
                    continue
                graph = p.graph(version.id)  # parses and matches its sha256
                if version.id != original:
                    assert graph == big_graph(graph["generation"])
                checked.add(version.id)
            latest_id, latest = p.latest_graph()
            assert latest == EXAMPLE_GRAPH or latest == big_graph(latest["generation"])
    assert time.monotonic() - started < 10
