"""What a problem report says about this installation (Help ▸ Report a Problem): the versions,
the system and where the log is, read without importing TensorFlow (the GUI stays responsive)."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

from layerloom.nodes.user_paths import log_path

# The libraries whose versions decide most behaviour a report is about.
REPORTED_PACKAGES = ("tensorflow", "keras", "ai-edge-litert", "onnxruntime", "PySide6-Essentials")


def app_version() -> str:
    try:
        return version("layerloom")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown (not installed)"


def _installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def problem_report(extra: dict[str, str] | None = None) -> str:
    """Plain text, a line per fact, ready to paste; ``extra``: what only a face knows (Qt's
    platform plugin)."""
    lines = [
        f"Layerloom {app_version()}",
        f"OS: {platform.platform()} ({platform.machine()})",
        f"Python: {sys.version.split()[0]} ({sys.executable})",
    ]
    lines += [f"{name}: {_installed(name)}" for name in REPORTED_PACKAGES]
    lines += [f"{key}: {value}" for key, value in (extra or {}).items()]
    where = log_path()
    state = "" if where.exists() else " (nothing logged yet)"
    lines.append(f"Log file: {where}{state}")
    return "\n".join(lines)
