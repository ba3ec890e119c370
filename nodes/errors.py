"""Exceptions a user can cause. Each carries one readable line; callers print it, not a traceback."""

from __future__ import annotations


class LayerloomError(Exception):
    """An error whose message is meant for the user as-is."""


class ShapeError(LayerloomError):
    """A shape rule cannot produce an output for the given inputs."""


class ProjectFileError(LayerloomError):
    """A project file cannot be opened or written."""


class CompileError(LayerloomError):
    """The graph cannot be compiled; ``problems`` lists every reason."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class DatasetError(LayerloomError):
    """A dataset cannot be read or does not fit the model; the message names the file/row at fault."""


class UsageError(LayerloomError):
    """A name or value the user typed cannot be used (an unknown node or setting, a value out of
    range); the CLI exits 2 for it, as for arguments argparse itself cannot parse."""
