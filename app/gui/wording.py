"""Messages shared with the CLI, worded for the window: a hint to run `layerloom data` becomes
"Training ▸ Data" — what a GUI user clicks — so no dialog or panel tells them to type a command.

The workbench's errors are one text for both faces; the CLI prints them as they are, and the GUI
passes each through ``gui_text``, which maps a quoted CLI command to the place in the window that
does the same (a registry: one line per command).
"""

from __future__ import annotations

import re

# CLI command (first word after `layerloom`) -> where the window does the same.
GUI_PLACES: dict[str, str] = {
    "data": "Training ▸ Data",
    "train": "Run ▸ Train",
    "evaluate": "Run ▸ Evaluate",
    "predict": "Training ▸ Predict",
    "export": "File ▸ Export…",
    "settings": "Training ▸ Settings",
    "layers": "the Layers palette",
    "remote": "Run ▸ Remotes…",
    "stats": "Training ▸ Data",
    "check-data": "Training ▸ Data",
    "templates": "File ▸ New",
    "new": "File ▸ New",
    "import": "File ▸ Import…",
    "tensorboard": "Run ▸ Export TensorBoard Logs…",
}
FALLBACK = "the matching menu"
# `layerloom CMD ...` in backticks, with the "(...)" or "run " around it when there is one.
COMMAND = re.compile(
    r"(?P<open>\(\s*)?(?P<lead>(?:run|with|use)\s+)?`layerloom (?P<cmd>[a-z][a-z-]*)[^`]*`"
    r"(?P<close>\s*\))?"
)


def _place(match: re.Match[str]) -> str:
    place = GUI_PLACES.get(match.group("cmd"), FALLBACK)
    lead = (match.group("lead") or "").strip()
    text = f"in {place}" if lead in ("with", "use") else f"open {place}"
    return f"({text})" if match.group("open") and match.group("close") else text


def gui_text(message: str) -> str:
    """``message`` with every quoted ``layerloom ...`` command replaced by its place in the GUI."""
    return COMMAND.sub(_place, message)
