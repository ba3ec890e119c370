"""The export targets as the faces list and describe them, and the parity report's one line.

The CLI and the GUI reach the exporters only through the workbench (an import contract holds
this); this module is that door for what they show before and after an export.
"""

from __future__ import annotations

from typing import Any

from layerloom.exporters.base import Exporter, ExportError
from layerloom.exporters.parity import summary
from layerloom.exporters.registry import ORDER, default_exporters

__all__ = ["ExportError", "describe_targets", "exporters", "parity_line", "target_names"]


def target_names() -> tuple[str, ...]:
    """The built-in targets in the order the faces offer them (cheap: no exporter is loaded)."""
    return tuple(ORDER)


def exporters() -> list[Exporter]:
    """Every registered exporter, in the faces' order (plugins after the built-ins)."""
    return list(default_exporters())


def describe_targets() -> list[dict[str, Any]]:
    """Each exporter's JSON-able description: target, title, options (``layerloom exporters``)."""
    return [exporter.describe() for exporter in exporters()]


def parity_line(parity: dict[str, Any], runtime: str | None = None) -> str:
    """The parity report as one line, naming the runtime it was checked in."""
    return summary({**parity, "runtime": runtime})
