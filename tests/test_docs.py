"""The documentation in docs/ and the README against the code it describes, so neither drifts:
every CLI command and flag is in docs/cli.md, docs/file-format.md lists the real tables and
columns and its SQL examples run on a trained project, and links stay inside the repository."""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.app.cli import build_parser
from layerloom.nodes import project_schema
from layerloom.nodes.project import Project

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LAYERLOOM = Path(sys.executable).parent / "layerloom"
PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted(DOCS.glob("*.md"))]


def sections(text: str, level: str = "###") -> dict[str, str]:
    """Markdown sections by their heading's text (without backticks), up to the next heading of
    the same or a higher level."""
    found: dict[str, str] = {}
    pattern = rf"^{level} (.+)$"
    matches = list(re.finditer(pattern, text, flags=re.MULTILINE))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = text[match.end() : end]
        body = re.split(rf"^#{{1,{len(level)}}} ", body, flags=re.MULTILINE)[0]
        found[match.group(1).strip().strip("`")] = body
    return found


def mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


# --- docs/cli.md ---------------------------------------------------------------------------------


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def undocumented(name: str, parser: argparse.ArgumentParser, section: str) -> list[str]:
    """The flags, positionals and sub-actions (``remote add``) of ``parser`` that ``section``
    does not mention, each with its command's words before it."""
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        words = action.option_strings or [action.metavar or action.dest]
        missing += [f"{name} {w}" for w in words if not mentions(section, w)]
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub_parser in action.choices.items():
                if not mentions(section, sub_name):
                    missing.append(f"{name} {sub_name}")
                missing += undocumented(f"{name} {sub_name}", sub_parser, section)
    return missing


def test_every_cli_command_and_flag_is_in_docs_cli() -> None:
    documented = sections((DOCS / "cli.md").read_text(encoding="utf-8"))
    commands = subcommands()
    assert commands, "no subcommands found in the parser"
    missing = []
    for name, parser in commands.items():
        section = documented.get(f"layerloom {name}")
        if section is None:
            missing.append(f"layerloom {name} (no '### `layerloom {name}`' section)")
            continue
        missing += [f"layerloom {word}" for word in undocumented(name, parser, section)]
    assert not missing, f"docs/cli.md does not document: {', '.join(missing)}"
    stale = {title for title in documented if title.startswith("layerloom ")}
    stale -= {f"layerloom {name}" for name in commands}
    assert not stale, f"docs/cli.md documents commands the CLI does not have: {sorted(stale)}"


def test_docs_cli_names_the_global_flags() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for action in build_parser()._actions:
        for word in action.option_strings:
            if word not in ("-h", "--help"):
                assert mentions(text, word), word


# --- docs/file-format.md -------------------------------------------------------------------------


def documented_tables() -> dict[str, set[str]]:
    text = (DOCS / "file-format.md").read_text(encoding="utf-8")
    tables = sections(sections(text, "##")["Tables"])
    return {
        name: set(re.findall(r"^\| `(\w+)` \|", body, flags=re.MULTILINE))
        for name, body in tables.items()
    }


def test_file_format_lists_every_table_and_column_there_is(tmp_path) -> None:
    Project.create(tmp_path / "new.loom").close()
    conn = sqlite3.connect(tmp_path / "new.loom")
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    real = {
        name: {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')} for name in names
    }
    conn.close()
    assert documented_tables() == real


def test_file_format_states_the_real_identity_and_version() -> None:
    text = (DOCS / "file-format.md").read_text(encoding="utf-8")
    assert f"`{project_schema.APPLICATION_ID}`" in text
    assert f"format version **{project_schema.SCHEMA_VERSION}**" in text


@pytest.fixture(scope="module")
def trained_and_exported(tmp_path_factory) -> Path:
    """A project trained for 2 epochs and exported once, all through the CLI as a user does it."""
    folder = tmp_path_factory.mktemp("docs")
    path = folder / "P.loom"
    for argv in (
        ["new", str(path), "--template", "mlp_classifier"],
        ["train", str(path), "--epochs", "2", "--json"],
        ["export", str(path), "--target", "keras", "-o", str(folder / "out"), "--json"],
    ):
        result = subprocess.run(
            [str(LAYERLOOM), *argv], capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"layerloom {argv[0]}: {result.stderr[-2000:]}"
    return path


def sql_blocks() -> list[str]:
    text = (DOCS / "file-format.md").read_text(encoding="utf-8")
    return re.findall(r"^```sql\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_file_format_has_example_queries() -> None:
    assert len(sql_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(sql_blocks())))
def test_file_format_example_queries_run_on_a_trained_project(trained_and_exported, index) -> None:
    query = sql_blocks()[index]
    conn = sqlite3.connect(f"file:{trained_and_exported}?mode=ro", uri=True)
    try:
        cursor = conn.execute(query)
        columns = [item[0] for item in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        conn.close()
    assert rows, f"the query returned nothing:\n{query}"
    for row in rows:
        assert any(value is not None for value in row.values())
        if "best_val_accuracy" in row:
            assert 0.0 <= row["best_val_accuracy"] <= 1.0 and row["epoch"] in (1, 2)
        if "max_abs_error" in row:
            assert row["target"] == "keras" and row["status"] == "passed"
            assert isinstance(row["max_abs_error"], float) and row["max_abs_error"] <= 1e-4


# --- links ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_point_at_files_in_the_repository(page) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name} links outside the repository: {target}"
        assert resolved.exists(), f"{page.name} links to a missing file: {target}"


def test_readme_links_every_doc() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in DOCS.glob("*.md"):
        assert f"](docs/{doc.name})" in readme, f"README.md does not link docs/{doc.name}"


def test_nothing_points_outside_the_clone() -> None:
    """Users' clones have no sibling folders: no file may send them to one."""
    outside = "../" + "shared"
    skip = {".git", ".venv", "node_modules", "test-artifacts", "__pycache__"}
    offenders = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder) / name
            if path.suffix in {".md", ".py", ".toml", ".sh", ".txt", ".cfg", ".yml", ".json"}:
                if outside in path.read_text(encoding="utf-8", errors="replace"):
                    offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"these files point at {outside}: {offenders}"
