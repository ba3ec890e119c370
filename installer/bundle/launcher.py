"""The bundle's one executable: the ``layerloom`` command line, and a stand-in for ``python -m``.

Layerloom starts its own helpers as ``sys.executable -m MODULE ...`` (the training and export
workers, ``layerloom gui``'s window process). In a frozen bundle ``sys.executable`` is this
program, so it answers ``-m MODULE ARGS`` the way Python would: by running the bundled module as
``__main__``. Anything else is the CLI.
"""

import multiprocessing
import runpy
import sys

# Interpreter flags the helpers may pass before ``-m``; they mean nothing in a frozen program.
_PYTHON_FLAGS = {"-u", "-B", "-E", "-s", "-I", "-O", "-OO", "-q"}


def main() -> int:
    multiprocessing.freeze_support()
    args = sys.argv[1:]
    while args and args[0] in _PYTHON_FLAGS:
        args.pop(0)
    if len(args) >= 2 and args[0] == "-m":
        module = args[1]
        sys.argv = [sys.argv[0], *args[2:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from layerloom.app.cli import main as cli

    sys.argv = [sys.argv[0], *args]
    return cli()


if __name__ == "__main__":
    sys.exit(main())
