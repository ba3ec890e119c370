"""The layering rules of docs/architecture.md, enforced by tools rather than memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


SUBPACKAGES = ("app", "nodes", "backends", "exporters", "resources")


def installed_layout(tmp_path: Path) -> Path:
    """A folder holding ``layerloom/`` as a wheel installs it (the repository's top-level folders
    inside it), made of links: import-linter walks one package directory and cannot follow
    setuptools' ``package-dir`` mapping."""
    package = tmp_path / "layerloom"
    package.mkdir()
    for source in (ROOT / "layerloom").glob("*.py"):
        (package / source.name).symlink_to(source)
    for name in SUBPACKAGES:
        (package / name).symlink_to(ROOT / name, target_is_directory=True)
    return tmp_path


def test_import_contracts_hold(tmp_path: Path) -> None:
    """Qt only in app.gui; arrows point down; the CLI and GUI never import each other."""
    layout = installed_layout(tmp_path)
    config = str(ROOT / "pyproject.toml")
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache", "--config", config],
        cwd=layout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_no_module_level_tensorflow_imports_and_lint_is_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    result = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_help_does_not_import_tensorflow() -> None:
    probe = (
        "import sys\n"
        "from layerloom.app.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'PySide6', 'onnx') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


def test_validating_a_project_does_not_import_tensorflow(tmp_path) -> None:
    """Opening, analysing and validating a graph must not pay TensorFlow's import."""
    project = tmp_path / "p.loom"
    probe = (
        "import sys\n"
        "from layerloom.app.cli import main\n"
        f"assert main(['new', {str(project)!r}, '--template', 'residual_cnn']) == 0\n"
        f"assert main(['validate', {str(project)!r}]) == 0\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", ".execute(", ".executemany(")


def test_the_application_runs_no_sql() -> None:
    """SQL lives in the store layer (nodes.project, backends.records, exporters.records): the
    workbench's use cases call it and the GUI and the CLI call those, so a schema change never
    reaches a use case, a widget or a command."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for face in ("app/gui", "app/cli", "app/workbench")
        for path in sorted((ROOT / face).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(word in line for word in SQL_WORDS)
    ]
    assert found == []


def test_gui_parts_declare_what_they_share() -> None:
    """Mixins and widgets read declared attributes (set in ``__init__`` or on the class), never
    probe their host or the document with getattr/hasattr: a rename then fails loudly."""
    probes = ("getattr(self", "hasattr(self", "getattr(self.document", "hasattr(document")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "app" / "gui").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(probe in line for probe in probes)
    ]
    assert found == []
