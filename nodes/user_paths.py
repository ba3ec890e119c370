"""Where Layerloom keeps per-user files that are no project's: the log (XDG state folder).

Light on purpose (no import beyond the standard library): the CLI's error path and the GUI's
Help ▸ Report a Problem both name the log file, and neither may pay for loading the domain.
"""

from __future__ import annotations

import os
from pathlib import Path


def log_path() -> Path:
    """The log every face writes errors to, with their tracebacks."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "layerloom" / "layerloom.log"
