"""Start-up: the QApplication, theme, the first document, crash recovery and the event loop.

``python -m layerloom.app.gui [P.loom] [--smoke-test]`` (and ``layerloom gui``) land in ``main``.
Nothing on this path imports TensorFlow or Keras, so the window appears in well under a second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

IMPORTED = time.perf_counter()


def process_age_ms() -> float:
    """Milliseconds since this process started (the OS's clock on Linux; else since this import),
    so the smoke test reports start-up as a user feels it, interpreter start included."""
    try:
        with open("/proc/self/stat") as stat:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as uptime:
            now = float(uptime.read().split()[0])
        return (now - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000
    except (OSError, ValueError, IndexError):
        return (time.perf_counter() - IMPORTED) * 1000


def display_problem() -> str | None:
    """Why no window can open here, if that is known before Qt tries (and aborts the process)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set): run it on a desktop, "
        "or under a virtual one with `xvfb-run -a layerloom gui`"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="layerloom gui", description="The Layerloom editor.")
    parser.add_argument("project", type=Path, nargs="?", help="a .loom project to open")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="show the window, report how long it took to appear, and quit",
    )
    parser.add_argument("--template", help="start an untitled project from this template")
    return parser.parse_args(argv)


def _when_exposed(window, callback) -> None:
    """Call ``callback`` once the window is really on screen (exposed), polling the event loop."""
    from PySide6.QtCore import QTimer

    def check() -> None:
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            callback()
        else:
            QTimer.singleShot(5, check)

    QTimer.singleShot(0, check)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = display_problem()
    if problem:
        print(f"layerloom gui: {problem}", file=sys.stderr)
        return 1

    from PySide6.QtWidgets import QApplication

    from layerloom.app.gui.theme import follow_system_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("Layerloom")
    app.setApplicationName("Layerloom")
    app.setApplicationDisplayName("Layerloom")
    app.setDesktopFileName("layerloom")
    follow_system_theme(app)

    from layerloom.app.gui.main_window import MainWindow
    from layerloom.app.gui.session import untitled_document
    from layerloom.nodes.errors import LayerloomError

    try:
        document = untitled_document(args.template)
    except LayerloomError as error:
        print(f"layerloom gui: {error}", file=sys.stderr)
        document = untitled_document()
    window = MainWindow(document)
    if args.project is not None:
        window.open_document(args.project)  # an error is shown; the untitled document stays
    window.show()

    if args.smoke_test:

        def report() -> None:
            try:
                elapsed = process_age_ms()
                heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
                title = window.windowTitle().replace("[*]", "")
                print(f"window shown in {elapsed:.0f} ms", flush=True)
                print(
                    f"platform: {app.platformName()}; heavy modules: {', '.join(heavy) or 'none'}"
                )
                print(f"title: {title}; nodes: {len(window.document.graph)}", flush=True)
            finally:  # even if stdout is gone: a smoke test must never leave a window running
                window.document.undo_stack.setClean()
                window.close()
                app.quit()

        _when_exposed(window, report)
    else:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, window.offer_recovery)
    return app.exec()
