"""Where an export is written: a hidden temporary sibling of the chosen folder, renamed into place
only when the export ends with files, so a killed or failed export never leaves a half folder.

Every finished export carries a small manifest (``.layerloom-export.json``: target, run, project,
time). ``--overwrite`` replaces a folder only when it holds that manifest, i.e. a previous
Layerloom export, and replaces it whole, so targets never mix and a user's own files are never
deleted. TF Serving is the one target that adds to a folder (version 2 beside version 1): into a
folder holding a previous serving export it writes in place, where the exporter already stages
each version beside its final place and renames it when checked.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from layerloom.exporters.base import Exporter, ExportError
from layerloom.nodes.job_folders import process_alive

MANIFEST = ".layerloom-export.json"
STAGING = ".layerloom-export-"  # in the staging folder's name, after ".<folder name>"


def manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's export manifest, or None when Layerloom did not write the folder."""
    try:
        found = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and "target" in found else None


def writes_in_place(out_dir: Path, exporter: Exporter) -> bool:
    """True for an exporter that adds to a folder holding its own previous export (serving)."""
    if not getattr(exporter, "reuses_folder", False) or not out_dir.is_dir():
        return False
    previous = manifest(out_dir)
    return previous is not None and previous["target"] == exporter.target


def check_output_folder(out_dir: Path, exporter: Exporter, overwrite: bool) -> Path:
    """The folder to export to, resolved; ExportError when it may not be written (a file, a
    folder with someone else's files, a parent that cannot be written)."""
    out_dir = out_dir.expanduser().resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"the output folder {out_dir} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not writes_in_place(out_dir, exporter):
        previous = manifest(out_dir)
        if previous is None:
            raise ExportError(
                f"the output folder {out_dir} is not empty and holds no Layerloom export"
                f" ({MANIFEST}); --overwrite replaces only a previous export: choose an empty"
                " or new folder"
            )
        if not overwrite:
            raise ExportError(
                f"the output folder {out_dir} is not empty (a {previous['target']} export);"
                " choose an empty folder or replace it (--overwrite)"
            )
    _remove_stale_staging(out_dir)
    try:
        # Permission bits say little (root, ACLs, read-only mounts): try it, as the export will.
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        probe = out_dir if writes_in_place(out_dir, exporter) else out_dir.parent
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as error:
        raise ExportError(
            f"the output folder {out_dir} is not writable: {error.strerror or error}"
        ) from error
    return out_dir


def _remove_stale_staging(out_dir: Path) -> None:
    """Staging folders of exports to ``out_dir`` whose process is gone (killed mid-export)."""
    prefix = f".{out_dir.name}{STAGING}"
    if not out_dir.parent.is_dir():
        return
    for entry in out_dir.parent.iterdir():
        if not entry.name.startswith(prefix) or not entry.is_dir():
            continue
        pid = entry.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def staging_folder(out_dir: Path) -> Path:
    """A new hidden sibling of ``out_dir`` for the export to write into (same file system, so the
    final rename is atomic); its name holds this process's id, so a later export can tell a
    killed export's leftovers from a running one's."""
    prefix = f".{out_dir.name}{STAGING}{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir.parent))


def write_manifest(folder: Path, record: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(
        json.dumps({"layerloom_export": 1, **record}, indent=1) + "\n", encoding="utf-8"
    )


def publish(staging: Path, out_dir: Path) -> None:
    """Rename the finished ``staging`` folder to ``out_dir``, replacing a previous export there
    (checked by ``check_output_folder``) only once the new one is complete."""
    old: Path | None = None
    if out_dir.is_dir():
        if any(out_dir.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.replaced-", dir=out_dir.parent))
            old.rmdir()
            out_dir.rename(old)
        else:
            out_dir.rmdir()
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def moved(value: Any, staging: Path, out_dir: Path) -> Any:
    """``value`` (paths in an export's files and details) with the staging folder's path replaced
    by the final folder's."""
    if isinstance(value, str):
        return value.replace(str(staging), str(out_dir))
    if isinstance(value, list):
        return [moved(item, staging, out_dir) for item in value]
    if isinstance(value, dict):
        return {key: moved(item, staging, out_dir) for key, item in value.items()}
    return value
