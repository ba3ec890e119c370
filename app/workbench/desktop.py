"""Desktop integration on Linux (freedesktop.org): a menu entry with the icon, and the ``.loom`` file
type, so a double click on a project opens it in Layerloom.

This module is the one source of the ``.desktop`` entry and the shared-mime-info XML: every way of
installing (``installer/install.sh``, ``pipx`` + ``layerloom desktop-integration install``, the
bundle) writes them through ``install`` here, and ``uninstall`` removes exactly what it wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MIME_TYPE = "application/x-layerloom"
DESKTOP_ID = "layerloom.desktop"
ICON_NAME = "layerloom"
# A .loom file is SQLite: declaring the type a subclass of SQLite's lets the *.loom glob win over
# SQLite's magic bytes (shared-mime-info's rule for a glob and magic that disagree).
MIME_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>Layerloom project</comment>
    <sub-class-of type="application/vnd.sqlite3"/>
    <generic-icon name="{ICON_NAME}"/>
    <glob pattern="*.loom"/>
  </mime-type>
</mime-info>
"""


@dataclass(frozen=True)
class DesktopFiles:
    """Where the integration's files go under one XDG data folder (``~/.local/share``)."""

    data_home: Path

    @property
    def desktop_entry(self) -> Path:
        return self.data_home / "applications" / DESKTOP_ID

    @property
    def mime_xml(self) -> Path:
        return self.data_home / "mime" / "packages" / "layerloom.xml"

    @property
    def app_icon(self) -> Path:
        return self.data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"

    @property
    def mime_icon(self) -> Path:
        name = MIME_TYPE.replace("/", "-") + ".svg"
        return self.data_home / "icons" / "hicolor" / "scalable" / "mimetypes" / name

    def all(self) -> tuple[Path, ...]:
        return (self.desktop_entry, self.mime_xml, self.app_icon, self.mime_icon)


def default_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def default_config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def launcher_command() -> list[str]:
    """The command that starts this Layerloom: the bundle's executable, the ``layerloom`` script
    this process was started as, or this interpreter with ``-m layerloom``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "layerloom" and script.is_file():
        return [str(script.absolute())]
    return [sys.executable, "-m", "layerloom"]


def _exec_argument(arg: str) -> str:
    """Quotes one argument of a desktop entry's Exec key (Desktop Entry Specification, "The Exec
    key"): inside double quotes, backslash-escape ", `, $ and \\; a literal % is %%."""
    arg = arg.replace("%", "%%")
    if not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def desktop_entry(command: list[str]) -> str:
    exec_line = " ".join(_exec_argument(a) for a in command) + " gui %f"
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Layerloom\n"
        "GenericName=Neural Network Editor\n"
        "Comment=Build Keras models as node graphs, train them and deploy them\n"
        f"Exec={exec_line}\n"
        f"Icon={ICON_NAME}\n"
        "Terminal=false\n"
        "Categories=Development;Science;ArtificialIntelligence;\n"
        f"MimeType={MIME_TYPE};\n"
        "Keywords=neural network;Keras;TensorFlow;machine learning;deep learning;\n"
    )


def _icon_svg() -> bytes:
    return resources.files("layerloom.resources").joinpath("icons", "layerloom.svg").read_bytes()


def _write(path: Path, data: bytes) -> None:
    # A temporary sibling renamed into place: a reader never sees a half-written entry.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _run_if_present(tool: str, *args: str) -> str | None:
    """Runs a desktop database tool when it is installed; the integration works without them
    (the desktop rescans later), so their absence or failure is reported, never fatal."""
    if shutil.which(tool) is None:
        return None
    result = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return f"{tool} failed: {(result.stderr or result.stdout).strip()[:200]}"
    return f"ran {tool}"


def _refresh(files: DesktopFiles) -> list[str]:
    notes = [
        _run_if_present("update-mime-database", str(files.data_home / "mime")),
        _run_if_present("update-desktop-database", "-q", str(files.desktop_entry.parent)),
    ]
    return [note for note in notes if note]


def install(
    data_home: Path | None = None,
    command: list[str] | None = None,
    set_default: bool | None = None,
) -> list[str]:
    """Writes the entry, the MIME type and the icons; returns what was done, one line each.

    ``set_default`` makes Layerloom the default application for ``.loom`` files through
    ``xdg-mime`` (it writes the user's ``mimeapps.list``); by default only when installing into the
    user's own data folder, never into a test or staging folder.
    """
    if set_default is None:
        set_default = data_home is None
    files = DesktopFiles(data_home or default_data_home())
    _write(files.desktop_entry, desktop_entry(command or launcher_command()).encode())
    _write(files.mime_xml, MIME_XML.encode())
    icon = _icon_svg()
    _write(files.app_icon, icon)
    _write(files.mime_icon, icon)
    done = [f"wrote {path}" for path in files.all()] + _refresh(files)
    if set_default:
        note = _run_if_present("xdg-mime", "default", DESKTOP_ID, MIME_TYPE)
        if note:
            done.append(note)
    return done


def _forget_default(config_home: Path) -> str | None:
    """Removes the ``.loom`` association ``xdg-mime default`` added to mimeapps.list."""
    path = config_home / "mimeapps.list"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"{MIME_TYPE}=")]
    if kept == lines:
        return None
    _write(path, "".join(kept).encode())
    return f"removed {MIME_TYPE} from {path}"


def uninstall(data_home: Path | None = None, config_home: Path | None = None) -> list[str]:
    """Removes what ``install`` wrote (and nothing else); returns what was done."""
    files = DesktopFiles(data_home or default_data_home())
    done = []
    for path in files.all():
        if path.is_file():
            path.unlink()
            done.append(f"removed {path}")
    if done:
        done += _refresh(files)
    if data_home is None or config_home is not None:
        note = _forget_default(config_home or default_config_home())
        if note:
            done.append(note)
    return done
