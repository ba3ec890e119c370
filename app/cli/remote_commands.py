"""``layerloom remote add|list|check|setup|remove``: the user's remote hosts to train on."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from layerloom.app.cli.common import EXIT_OK, emit_json


def _env_pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    key, value = text.split("=", 1)
    return key, value


def remote_args(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a remote: an ssh alias or user@host")
    add.add_argument("name", help="what to call it (letters, digits, _ . -)")
    add.add_argument("host", help="an alias from ~/.ssh/config, a host name, or user@host")
    add.add_argument("--port", type=int)
    add.add_argument("--user")
    add.add_argument("--identity", metavar="FILE", help="a private key file (never copied)")
    add.add_argument("--known-hosts", metavar="FILE", help="a known_hosts file to trust")
    add.add_argument(
        "--ssh-config", metavar="FILE", help="an ssh_config to use instead of ~/.ssh/config"
    )
    add.add_argument("--python", metavar="PATH", help="the host's Python (default: the setup venv)")
    add.add_argument(
        "--workdir", metavar="DIR", help="where jobs and data live (default ~/layerloom)"
    )
    add.add_argument("--accelerator", choices=("auto", "cpu", "gpu", "tpu"), default="auto")
    add.add_argument(
        "--keras-backend", choices=("auto", "tensorflow", "jax"), default="auto",
        help="auto: JAX on a TPU, TensorFlow elsewhere",
    )  # fmt: skip
    add.add_argument("--env", type=_env_pair, action="append", default=[], metavar="KEY=VALUE")
    add.add_argument("--hosts", metavar="H2,H3", help="the other hosts of a TPU pod slice")
    add.add_argument("--replace", action="store_true", help="replace a remote of that name")
    for name, text in (
        ("list", "list the remotes"),
        ("check", "connect: host key, Python, Layerloom version, devices"),
        ("setup", "make the host's runtime venv with this Layerloom version"),
        ("remove", "forget a remote (nothing on the host is touched)"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        if name != "list":
            action.add_argument("name")
        if name == "setup":
            action.add_argument(
                "--wheelhouse", type=Path, metavar="DIR",
                help="install only from these wheels (a host without a package index)",
            )  # fmt: skip
    for action in actions.choices.values():
        action.add_argument("--json", action="store_true")


def _describe(remote: Any) -> str:
    extra = [f"{k} {v}" for k, v in remote.to_json().items() if k not in ("name", "host")]
    return f"{remote.name:<12} {remote.target.describe()}" + (
        f"  ({', '.join(extra)})" if extra else ""
    )


def cmd_remote(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import remotes

    if args.action == "add":
        remote = remotes.add_remote(
            args.name,
            args.host,
            replace=args.replace,
            port=args.port,
            user=args.user,
            identity=args.identity,
            known_hosts=args.known_hosts,
            ssh_config=args.ssh_config,
            python=args.python,
            workdir=args.workdir,
            accelerator=args.accelerator,
            keras_backend=args.keras_backend,
            env=dict(args.env) or None,
            hosts=[h for h in (args.hosts or "").split(",") if h] or None,
        )
        if args.json:
            emit_json(remote.to_json())
        else:
            print(f"added {_describe(remote)}; now `layerloom remote check {remote.name}`")
        return EXIT_OK
    if args.action == "list":
        found = remotes.list_remotes()
        if args.json:
            emit_json([r.to_json() for r in found])
            return EXIT_OK
        if not found:
            print(f"no remotes yet ({remotes.config_path()}); add one with `layerloom remote add`")
        for remote in found:
            print(_describe(remote))
        return EXIT_OK
    if args.action == "remove":
        removed = remotes.remove_remote(args.name)
        if args.json:
            emit_json(removed.to_json())
        else:
            print(f"removed {removed.name}")
        return EXIT_OK
    if args.action == "check":
        found = remotes.check_remote(args.name)
        if args.json:
            emit_json(found)
            return EXIT_OK
        print(f"{found['name']}: {found['host']} — host key verified")
        print(f"  Python {found['python']} ({found['executable']}), Layerloom {found['layerloom']}")
        print(f"  Keras {found['keras']}, backends: {', '.join(found['keras_backends']) or 'none'}")
        print(f"  {found['accelerator']}: {', '.join(found['devices'])}")
        return EXIT_OK
    progress = (lambda _: None) if args.json else (lambda text: print(text, file=sys.stderr))
    python = remotes.setup_remote(args.name, args.wheelhouse, progress)
    if args.json:
        emit_json({"name": args.name, "python": python})
    else:
        print(f"{args.name} is ready: jobs run with {python}")
    return EXIT_OK
