"""Talking to another machine through the user's own OpenSSH client.

Layerloom runs ``ssh`` itself rather than an SSH library: the user's ``~/.ssh/config`` (aliases,
``ProxyJump``, ``Match`` blocks, what ``gcloud compute config-ssh`` writes for TPU VMs), keys,
agent and ``known_hosts`` then work exactly as they do in their terminal. Host keys are always
verified (``StrictHostKeyChecking=yes``): an unknown or changed key is refused with the key's
fingerprint and what to do. Nothing is stored: no password, no key.

Commands run on the host are built from ``shlex.quote``d words only, and nothing the host prints is
ever executed here. Connections are shared (``ControlMaster``) so the many short commands of a
run (poll, fetch a checkpoint) do not each pay a handshake.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from layerloom.nodes.errors import LayerloomError

CONNECT_TIMEOUT_SECONDS = 15
# ssh's own exit code for "could not connect or authenticate"; a remote command's code otherwise.
SSH_FAILED = 255


class SSHError(LayerloomError):
    """The host could not be reached, authenticated or trusted; the message says what to do."""


@dataclass(frozen=True)
class SSHTarget:
    """How to reach one host. ``host`` is an alias from the user's ssh config or a host name."""

    host: str
    port: int | None = None
    user: str | None = None
    identity: str | None = None
    known_hosts: str | None = None
    ssh_config: str | None = None  # an ssh_config file to use instead of ~/.ssh/config
    extra_options: tuple[str, ...] = field(default_factory=tuple)

    def key(self) -> str:
        """A short name for everything that decides how the host is reached and trusted."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:20]

    def describe(self) -> str:
        who = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{who}{self.host}{port}"


def _control_dir() -> Path:
    # Short: a unix socket path must stay under ~100 bytes.
    folder = Path(tempfile.gettempdir()) / "layerloom-ssh"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def ssh_command(
    target: SSHTarget, remote_command: str | None = None, *, share: bool = True
) -> list[str]:
    """The ``ssh`` argument list for ``remote_command`` (already quoted) on ``target``.

    ssh keeps the FIRST value it sees for an option, so ours come before the user's config file
    is read (it is read after the command line) and cannot be overridden by it.
    """
    argv = ["ssh"]
    if target.ssh_config:
        argv += ["-F", target.ssh_config]
    argv += [
        "-o", "BatchMode=yes",  # never prompt: no password is typed into Layerloom
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"ConnectTimeout={CONNECT_TIMEOUT_SECONDS}",
        "-o", "ServerAliveInterval=15",
        "-o", "ServerAliveCountMax=4",
        "-o", "LogLevel=ERROR",
    ]  # fmt: skip
    if share:
        argv += [
            "-o", "ControlMaster=auto",
            # Per target, not per host: a connection checked against one known_hosts file is
            # never reused for a target that names another.
            "-o", f"ControlPath={_control_dir()}/{target.key()}",
            "-o", "ControlPersist=60",
        ]  # fmt: skip
    if target.known_hosts:
        argv += ["-o", f"UserKnownHostsFile={target.known_hosts}"]
    if target.identity:
        argv += ["-i", target.identity, "-o", "IdentitiesOnly=yes"]
    if target.port:
        argv += ["-p", str(target.port)]
    if target.user:
        argv += ["-l", target.user]
    for option in target.extra_options:
        argv += ["-o", option]
    argv += ["--", target.host]
    if remote_command is not None:
        argv.append(remote_command)
    return argv


def quote(words: Sequence[str | Path]) -> str:
    """One shell command line on the host, every word quoted."""
    return " ".join(shlex.quote(str(word)) for word in words)


_KEY_PROBLEMS = (
    ("REMOTE HOST IDENTIFICATION HAS CHANGED", "changed"),
    ("Host key verification failed", "unknown"),
    ("No ED25519 host key is known", "unknown"),
    ("No RSA host key is known", "unknown"),
    ("No ECDSA host key is known", "unknown"),
)


def resolve(target: SSHTarget) -> tuple[str, int]:
    """The host name and port ssh really connects to (aliases resolved by ``ssh -G``)."""
    argv = ssh_command(target, share=False)
    argv.insert(1, "-G")
    try:
        shown = subprocess.run(argv, capture_output=True, text=True, timeout=15).stdout
    except (OSError, subprocess.SubprocessError):
        return target.host, target.port or 22
    values = dict(line.split(" ", 1) for line in shown.splitlines() if " " in line)
    return values.get("hostname", target.host), int(values.get("port", target.port or 22))


def explain_failure(target: SSHTarget, stderr: str) -> str:
    """One line saying why ssh failed and what to do about it."""
    text = stderr.strip()
    for marker, kind in _KEY_PROBLEMS:
        if marker in text:
            fingerprint = re.search(r"SHA256:[A-Za-z0-9+/=]+", text)
            if fingerprint is None:  # ssh names it only when the key changed
                host, port = resolve(target)
                offered = host_fingerprints(host, port)
                fingerprint = re.search(r"SHA256:[A-Za-z0-9+/=]+", " ".join(offered))
            shown = f" (the host offers {fingerprint.group(0)})" if fingerprint else ""
            if kind == "changed":
                return (
                    f"the host key of {target.describe()} has CHANGED{shown}: refusing to connect. "
                    "If the host was rebuilt, remove its old key with `ssh-keygen -R HOST`; "
                    "otherwise someone may be intercepting the connection"
                )
            return (
                f"the host key of {target.describe()} is not known{shown}: refusing to connect. "
                f"Connect once with `ssh {target.host}` and check the fingerprint, "
                "or add the key to your known_hosts file"
            )
    if "Permission denied" in text:
        return (
            f"{target.describe()} refused the login (Permission denied): check the user and the "
            "key (--identity), or load it into your ssh-agent"
        )
    if "Could not resolve hostname" in text:
        return f"cannot find the host {target.host!r}: not in your ssh config and not a host name"
    if "Connection refused" in text or "timed out" in text or "No route to host" in text:
        last = text.splitlines()[-1] if text else "no answer"
        return f"cannot reach {target.describe()}: {last}"
    last = text.splitlines()[-1] if text else "ssh failed without saying why"
    return f"ssh to {target.describe()} failed: {last}"


def host_fingerprints(host: str, port: int | None = None) -> list[str]:
    """The SHA256 fingerprints a host offers (ssh-keyscan), to show when its key is unknown."""
    argv = ["ssh-keyscan", "-T", "5"] + (["-p", str(port)] if port else []) + [host]
    try:
        scanned = subprocess.run(argv, capture_output=True, text=True, timeout=15)
        keys = subprocess.run(
            ["ssh-keygen", "-lf", "-"],
            input=scanned.stdout,
            capture_output=True,
            text=True,
            timeout=15,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in keys.stdout.splitlines() if "SHA256:" in line]


class SSH:
    """Run commands on one host and move bytes to and from it."""

    def __init__(self, target: SSHTarget) -> None:
        self.target = target

    def run(
        self, words: Sequence[str | Path] | str, *, input: bytes | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a command (a list of words, quoted here; or a line already quoted) and return it,
        whatever its exit code; SSHError when ssh itself could not connect."""
        line = words if isinstance(words, str) else quote(words)
        try:
            done = subprocess.run(
                ssh_command(self.target, line),
                input=input,
                capture_output=True,
                timeout=timeout,
                stdin=None if input is not None else subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as error:
            raise SSHError(
                f"{self.target.describe()} did not answer within {timeout:.0f} s"
            ) from error
        except FileNotFoundError as error:
            raise SSHError("the `ssh` command is not installed (OpenSSH client)") from error
        if done.returncode == SSH_FAILED:
            raise SSHError(explain_failure(self.target, done.stderr.decode("utf-8", "replace")))
        return done

    def check(self, words: Sequence[str | Path] | str, **kwargs: object) -> bytes:
        """Run a command that must succeed; its stdout."""
        done = self.run(words, **kwargs)  # type: ignore[arg-type]
        if done.returncode != 0:
            command = words if isinstance(words, str) else quote(words)
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SSHError(
                f"on {self.target.describe()}, `{command[:120]}` failed "
                f"(exit {done.returncode}): {message[-1] if message else 'no message'}"
            )
        return done.stdout

    def read(self, path: str) -> bytes:
        return self.check(["cat", "--", path])

    def write(self, path: str, data: bytes) -> None:
        """Write a file on the host atomically (a sibling, then a rename)."""
        partial = f"{path}.partial"
        line = (
            f"cat > {shlex.quote(partial)} && mv -f -- {shlex.quote(partial)} {shlex.quote(path)}"
        )
        self.check(line, input=data)

    def popen(self, words: Sequence[str | Path] | str) -> subprocess.Popen[bytes]:
        """A long-running command whose stdout is read as it comes (a tail of the event log)."""
        line = words if isinstance(words, str) else quote(words)
        return subprocess.Popen(
            ssh_command(self.target, line),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
