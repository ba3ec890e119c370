"""The user's remotes: named hosts to train on, kept per user in
``$XDG_CONFIG_HOME/layerloom/remotes.toml`` (``~/.config/layerloom/remotes.toml``), never in a
project file, so a project stays shareable. No password or key is stored: only how to reach the
host (an ssh alias or user@host, and optionally a port, a key file's path, a known_hosts file).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from layerloom.backends.ssh import SSHTarget
from layerloom.nodes.errors import LayerloomError

ACCELERATORS = ("auto", "cpu", "gpu", "tpu")
KERAS_BACKENDS = ("auto", "tensorflow", "jax")
NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RESERVED = ("local", "inprocess")
DEFAULT_WORKDIR = "~/layerloom"


class RemoteError(LayerloomError):
    """A remote that does not exist, or a setting of one that is not valid."""


@dataclass
class Remote:
    name: str
    host: str  # an alias from ~/.ssh/config, a host name, or user@host
    port: int | None = None
    user: str | None = None
    identity: str | None = None
    known_hosts: str | None = None
    ssh_config: str | None = None
    python: str | None = None  # the host's Python; default: the venv `remote setup` makes
    workdir: str = DEFAULT_WORKDIR
    accelerator: str = "auto"
    keras_backend: str = "auto"
    env: dict[str, str] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)  # more hosts of a TPU pod slice

    def __post_init__(self) -> None:
        if not NAME_RULE.match(self.name) or self.name in RESERVED:
            raise RemoteError(
                f"{self.name!r} cannot name a remote: use letters, digits, '_', '.', '-' "
                f"(not {', '.join(RESERVED)})"
            )
        if "@" in self.host and not self.user:
            self.user, self.host = self.host.split("@", 1)
        if not self.host or self.host.startswith("-"):
            raise RemoteError(f"{self.host!r} is not a host name or ssh alias")
        if self.accelerator not in ACCELERATORS:
            raise RemoteError(f"accelerator must be one of {', '.join(ACCELERATORS)}")
        if self.keras_backend not in KERAS_BACKENDS:
            raise RemoteError(f"keras backend must be one of {', '.join(KERAS_BACKENDS)}")
        if self.port is not None and not 0 < int(self.port) < 65536:
            raise RemoteError(f"port {self.port} is not a TCP port")
        for key in self.env:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise RemoteError(f"{key!r} is not an environment variable name")

    @property
    def target(self) -> SSHTarget:
        return SSHTarget(
            host=self.host,
            port=self.port,
            user=self.user,
            identity=_expand(self.identity),
            known_hosts=_expand(self.known_hosts),
            ssh_config=_expand(self.ssh_config),
        )

    @property
    def backend_name(self) -> str:
        """How run records name this remote's backend."""
        return f"remote:{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, [])}


def _expand(path: str | None) -> str | None:
    return str(Path(path).expanduser()) if path else None


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "layerloom" / "remotes.toml"


def load_remotes(path: Path | None = None) -> dict[str, Remote]:
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RemoteError(f"cannot read {path}: {error}") from error
    known = {f.name for f in fields(Remote)}
    remotes = {}
    for name, table in (data.get("remote") or {}).items():
        if not isinstance(table, dict):
            raise RemoteError(f"{path}: [remote.{name}] is not a table")
        unknown = set(table) - known
        if unknown:
            raise RemoteError(f"{path}: remote {name!r} has unknown keys {sorted(unknown)}")
        remotes[name] = Remote(name=name, **{k: v for k, v in table.items() if k != "name"})
    return remotes


def get_remote(name: str, path: Path | None = None) -> Remote:
    remotes = load_remotes(path)
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none yet; add one with `layerloom remote add`"
        raise RemoteError(f"no remote named {name!r} (remotes: {known})")
    return remotes[name]


def save_remotes(remotes: dict[str, Remote], path: Path | None = None) -> Path:
    """Write every remote, atomically (a temporary sibling renamed into place)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Layerloom remotes: `layerloom remote add|remove` edits this file.", ""]
    for name in sorted(remotes):
        lines.append(f"[remote.{_toml_key(name)}]")
        for key, value in remotes[name].to_json().items():
            if key != "name":
                lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        lines.append("")
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines), encoding="utf-8")
    os.replace(partial, path)
    return path


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else _toml_string(key)


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
