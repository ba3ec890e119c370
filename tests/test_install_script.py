"""installer/install.sh as a user runs it, into a temporary prefix: the command works from there
(create, train, export), the desktop entry and the .loom MIME type are written and valid, a second
run upgrades in place, and ``--uninstall`` leaves nothing of Layerloom behind.

The dependencies come from this environment (``--deps-from``), so nothing is downloaded."""

from __future__ import annotations

import configparser
import os
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from layerloom.app.workbench import desktop

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "installer" / "install.sh"
PYTHON = sys.executable


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # Nothing may reach the real user's folders, whatever the script does.
    env.update(
        HOME=str(tmp / "home"),
        XDG_DATA_HOME=str(tmp / "home" / "data"),
        XDG_CONFIG_HOME=str(tmp / "home" / "config"),
        XDG_STATE_HOME=str(tmp / "home" / "state"),
    )
    return env


def _install(prefix: Path, tmp: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), "--prefix", str(prefix), "--python", PYTHON]
        + ["--deps-from", PYTHON, *flags],
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _run(command: Path, cwd: Path, tmp: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(command), *argv], cwd=cwd, env=_env(tmp), capture_output=True, text=True, timeout=300
    )


def _mentions_layerloom(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if "layerloom" in path.name.lower():
            found.append(path)
        elif path.is_file() and b"layerloom" in path.read_bytes().lower():
            found.append(path)
    return found


def _check_desktop_files(share: Path, venv: Path) -> None:
    entry_path = share / "applications" / "layerloom.desktop"
    validator = shutil.which("desktop-file-validate")
    if validator:
        checked = subprocess.run([validator, str(entry_path)], capture_output=True, text=True)
        assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(entry_path.read_text(encoding="utf-8"))
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "Layerloom"
    assert entry["Exec"] == f'"{venv}/bin/layerloom" gui %f'  # the prefix has a space: quoted
    assert entry["MimeType"] == "application/x-layerloom;"
    assert entry["Icon"] == "layerloom"
    icon = ET.parse(share / "icons" / "hicolor" / "scalable" / "apps" / "layerloom.svg")
    assert icon.getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert (share / "icons/hicolor/scalable/mimetypes/application-x-layerloom.svg").is_file()
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    mime = ET.parse(share / "mime" / "packages" / "layerloom.xml").getroot()
    (mime_type,) = mime.findall("m:mime-type", ns)
    assert mime_type.get("type") == "application/x-layerloom"
    assert [g.get("pattern") for g in mime_type.findall("m:glob", ns)] == ["*.loom"]
    # A desktop's MIME lookup (Qt's, as file managers do) now names a project by its type, not
    # by the SQLite magic every .loom file starts with.
    project = share.parent / "sample.loom"
    sqlite3.connect(project).close()
    probe = (
        "from PySide6.QtCore import QCoreApplication, QMimeDatabase\n"
        "app = QCoreApplication([])\n"
        f"print(QMimeDatabase().mimeTypeForFile({str(project)!r}).name())\n"
    )
    env = {**os.environ, "XDG_DATA_HOME": str(share)}
    found = subprocess.run([PYTHON, "-c", probe], env=env, capture_output=True, text=True)
    assert found.stdout.strip() == "application/x-layerloom", found.stderr
    project.unlink()
    if shutil.which("update-mime-database"):
        # The MIME database was rebuilt: its glob list maps *.loom to the type.
        globs = (share / "mime" / "globs2").read_text(encoding="utf-8")
        assert "application/x-layerloom:*.loom" in globs


@pytest.mark.keras
def test_install_use_reinstall_and_uninstall_into_a_prefix(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix with space"
    share = prefix / "share"
    venv = share / "layerloom" / "venv"
    command = prefix / "bin" / "layerloom"

    installed = _install(prefix, tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert "is not on your PATH" in installed.stderr
    assert command.is_symlink() and command.resolve() == (venv / "bin" / "layerloom").resolve()
    _check_desktop_files(share, venv)

    work = tmp_path / "work"
    work.mkdir()
    version = _run(command, work, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("layerloom "), version.stderr
    # The package that runs is the installed wheel, not this checkout.
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import layerloom; print(layerloom.__file__)"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout
    created = _run(command, work, tmp_path, "new", "pröject.loom", "--template", "mlp_classifier")
    assert created.returncode == 0, created.stderr
    trained = _run(command, work, tmp_path, "train", "pröject.loom", "--epochs", "1")
    assert trained.returncode == 0, trained.stderr
    exported = _run(
        command, work, tmp_path, "export", "pröject.loom", "--target", "keras", "-o", "out"
    )
    assert exported.returncode == 0, exported.stderr
    assert list((work / "out").glob("*.keras"))

    files_before = {p: p.read_bytes() for p in (share / "applications").iterdir()}
    again = _install(prefix, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "upgrading the environment" in again.stderr
    assert {p: p.read_bytes() for p in (share / "applications").iterdir()} == files_before
    assert _run(command, work, tmp_path, "--version").returncode == 0

    removed = _install(prefix, tmp_path, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not venv.exists() and not command.exists() and not command.is_symlink()
    assert _mentions_layerloom(prefix) == []
    # The user's own folders were never touched.
    assert not (tmp_path / "home" / "data").exists()
    assert not (tmp_path / "home" / "config").exists()


def test_install_refuses_to_replace_a_command_that_is_not_its_own(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    theirs = prefix / "bin" / "layerloom"
    theirs.write_text("#!/bin/sh\necho someone else's\n")
    result = _install(prefix, tmp_path, "--no-desktop")
    assert result.returncode == 1
    assert f"{theirs} exists and is not a link to Layerloom" in result.stderr
    assert theirs.read_text() == "#!/bin/sh\necho someone else's\n"
    # Refused before anything was made.
    assert not (prefix / "share").exists()


def test_the_bundle_launcher_is_the_cli_and_answers_python_dash_m(tmp_path: Path) -> None:
    """installer/bundle/launcher.py, run unfrozen: what the bundle's executable does with the
    command lines Layerloom's helpers use (``sys.executable -u -m MODULE ARGS``)."""
    launcher = ROOT / "installer" / "bundle" / "launcher.py"
    as_cli = subprocess.run(
        [PYTHON, str(launcher), "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert as_cli.returncode == 0 and as_cli.stdout.strip() == "layerloom 0.1.0"
    as_module = subprocess.run(
        [PYTHON, str(launcher), "-u", "-m", "layerloom", "templates"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert as_module.returncode == 0 and "mlp_classifier" in as_module.stdout, as_module.stderr


def test_an_unknown_option_is_one_clear_line(tmp_path: Path) -> None:
    result = _install(tmp_path / "p", tmp_path, "--frobnicate")
    assert result.returncode == 1
    assert result.stderr.strip() == "install: error: unknown option '--frobnicate' (see --help)"


def test_the_exec_line_quotes_what_the_desktop_spec_asks(tmp_path: Path) -> None:
    entry = desktop.desktop_entry(["/opt/my apps/läyer$loom", "--flag", "100%"])
    (exec_line,) = [line for line in entry.splitlines() if line.startswith("Exec=")]
    assert exec_line == 'Exec="/opt/my apps/läyer\\$loom" --flag 100%% gui %f'


def test_uninstall_forgets_the_default_app_and_only_that(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    mimeapps = config / "mimeapps.list"
    mimeapps.write_text(
        "[Default Applications]\ntext/plain=gedit.desktop\napplication/x-layerloom=layerloom.desktop\n"
    )
    data = tmp_path / "data"
    desktop.install(data, ["/x/layerloom"], set_default=False)
    done = desktop.uninstall(data, config)
    assert f"removed application/x-layerloom from {mimeapps}" in done
    assert mimeapps.read_text() == "[Default Applications]\ntext/plain=gedit.desktop\n"
    assert not any(path.is_file() for path in desktop.DesktopFiles(data).all())
