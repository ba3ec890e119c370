"""Start-up: the QApplication, theme, the first document, crash recovery and the event loop.

``python -m app.gui [P.loom] [--smoke-test]`` (and ``layerloom gui``) land in ``main``. Nothing on this
path imports TensorFlow or Keras, so the window appears in well under a second.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()


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

    from PySide6.QtWidgets import QApplication

    from app.gui.theme import follow_system_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("Layerloom")
    app.setApplicationName("Layerloom")
    app.setApplicationDisplayName("Layerloom")
    app.setDesktopFileName("layerloom")
    follow_system_theme(app)

    from app.gui.main_window import MainWindow
    from app.gui.session import untitled_document
    from nodes.errors import LayerloomError

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
            elapsed = (time.perf_counter() - STARTED) * 1000
            heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
            print(f"window shown in {elapsed:.0f} ms", flush=True)
            print(f"platform: {app.platformName()}; heavy modules: {', '.join(heavy) or 'none'}")
            print(
                f"title: {window.windowTitle().replace('[*]', '')}; nodes: {len(window.document.graph)}"
            )
            window.document.undo_stack.setClean()
            window.close()
            app.quit()

        _when_exposed(window, report)
    else:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, window.offer_recovery)
    return app.exec()
