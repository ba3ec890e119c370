"""The training backends there are, by name: the ``layerloom.backends`` entry-point group.

Built-ins register exactly as a plugin would (``pyproject.toml``). A run record names its backend,
so whoever opens the project later asks the same backend whether the job still runs.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from layerloom.backends.base import Backend
from layerloom.nodes.errors import LayerloomError

GROUP = "layerloom.backends"
DEFAULT = "local"


@cache
def backend_classes() -> dict[str, Any]:
    return {point.name: point for point in entry_points(group=GROUP)}


REMOTE_PREFIX = "remote:"


def create_backend(name: str = DEFAULT, **options: Any) -> Backend:
    """A new backend of the kind registered as ``name``, or ``remote:NAME`` for one of the
    user's remotes (``backends.remotes``)."""
    if name.startswith(REMOTE_PREFIX):
        from layerloom.backends.remote import RemoteBackend

        return RemoteBackend(name[len(REMOTE_PREFIX) :], **options)
    try:
        point = backend_classes()[name]
    except KeyError:
        known = ", ".join(sorted(backend_classes())) or "none"
        raise LayerloomError(f"unknown training backend {name!r} (known: {known})") from None
    return point.load()(**options)
