"""``layerloom desktop-integration``: the menu entry, icon and ``.loom`` file type on Linux."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from layerloom.app.cli.common import EXIT_OK


def desktop_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("install", "uninstall"))
    p.add_argument(
        "--data-home",
        type=Path,
        metavar="DIR",
        help="the XDG data folder to write into (default: $XDG_DATA_HOME or ~/.local/share); "
        "with it, Layerloom is not made the default for .loom files",
    )
    p.add_argument(
        "--exec",
        dest="exec_command",
        metavar="COMMAND",
        help="the command the entry starts (default: this layerloom)",
    )


def cmd_desktop(args: argparse.Namespace) -> int:
    from layerloom.app.workbench import desktop

    if args.action == "install":
        command = shlex.split(args.exec_command) if args.exec_command else None
        done = desktop.install(args.data_home, command)
    else:
        done = desktop.uninstall(args.data_home)
    for line in done or ["nothing to remove"]:
        print(line)
    return EXIT_OK
