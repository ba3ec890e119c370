"""Remote hosts as use cases the CLI and the GUI share: add, list, remove, check, set up, and the
backend a run on one of them uses. The remotes live in the user's config, never in a project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerloom.backends import remote_setup
from layerloom.backends.base import Backend
from layerloom.backends.registry import DEFAULT, REMOTE_PREFIX, create_backend
from layerloom.backends.remotes import (
    ACCELERATORS,
    KERAS_BACKENDS,
    Remote,
    RemoteError,
    config_path,
    get_remote,
    load_remotes,
    save_remotes,
)

__all__ = [
    "ACCELERATORS",
    "KERAS_BACKENDS",
    "Remote",
    "RemoteError",
    "add_remote",
    "check_remote",
    "config_path",
    "list_remotes",
    "remote_of_backend",
    "remove_remote",
    "setup_remote",
    "training_backend",
]


def list_remotes() -> list[Remote]:
    return [remote for _, remote in sorted(load_remotes().items())]


def add_remote(name: str, host: str, *, replace: bool = False, **settings: Any) -> Remote:
    """Save a remote (checked, not yet contacted: ``check_remote`` does that)."""
    remotes = load_remotes()
    if name in remotes and not replace:
        raise RemoteError(f"a remote named {name!r} exists; remove it first (or --replace)")
    remote = Remote(name=name, host=host, **{k: v for k, v in settings.items() if v is not None})
    remotes[name] = remote
    save_remotes(remotes)
    return remote


def remove_remote(name: str) -> Remote:
    remotes = load_remotes()
    if name not in remotes:
        raise RemoteError(f"no remote named {name!r}")
    removed = remotes.pop(name)
    save_remotes(remotes)
    return removed


def check_remote(name: str) -> dict[str, Any]:
    """Host key, Python, Layerloom version and devices of a remote; LayerloomError says what
    is wrong (an unknown key, no runtime, another version)."""
    return remote_setup.check(get_remote(name))


def setup_remote(
    name: str, wheelhouse: Path | None = None, progress: remote_setup.Progress = print
) -> str:
    return remote_setup.setup(get_remote(name), wheelhouse, progress)


def training_backend(remote: str | None = None, remote_data: str | None = None) -> Backend:
    """Where a run trains: this machine, or the named remote (with data already on it)."""
    if remote is None:
        return create_backend(DEFAULT)
    return create_backend(REMOTE_PREFIX + get_remote(remote).name, remote_data=remote_data)


def remote_of_backend(backend_name: str | None) -> str | None:
    """The remote a run record's backend names (``remote:box`` -> ``box``); None for a backend
    on this machine. The faces read run records with it without knowing the naming rule."""
    if backend_name and backend_name.startswith(REMOTE_PREFIX):
        return backend_name[len(REMOTE_PREFIX) :]
    return None
