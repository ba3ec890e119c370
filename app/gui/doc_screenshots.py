"""Take the documentation's screenshots of the real editor: ``docs/images/*.png``.

Run under a virtual X server, so they look as on a desktop (installer/setup.sh installs xvfb):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m layerloom.app.gui.doc_screenshots [DIR]

(DIR defaults to ``docs/images`` of the working directory: run it from the repository root.)

It creates the sample project (``layerloom demo``'s) in a temporary folder, opens it in the main
window, trains it (a real worker, a few seconds), exports it to TF Lite through File ▸ Export…, and
grabs the window at each step: editor.png, training.png, export.png. Settings and recovery files
go to the temporary folder too, so your own editor settings are not touched. Each PNG is written
as 8-bit palette PNG where that keeps it readable, to stay well under 150 KB.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
SIZE = (1440, 900)
TIMEOUT_S = 240


def wait_until(app, done, timeout_s: float = TIMEOUT_S) -> None:
    ends = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > ends:
            raise SystemExit("screenshots: timed out waiting for the editor")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 0.5) -> None:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        app.processEvents()
        time.sleep(0.02)


def save(widget, name: str) -> Path:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    path = OUT / name
    image = widget.grab().toImage()
    # 256 colours keep a UI screenshot crisp at a third of the size of 24-bit colour.
    flags = Qt.ImageConversionFlag.ThresholdDither | Qt.ImageConversionFlag.AvoidDither
    small = image.convertToFormat(QImage.Format.Format_Indexed8, flags)
    if not small.save(str(path), "PNG", 9):
        raise SystemExit(f"screenshots: could not write {path}")
    print(f"{path}: {path.stat().st_size // 1024} KB")
    return path


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="layerloom-shots-"))
    for key in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[key] = str(scratch / key.lower())

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("Layerloom")
    app.setApplicationName("Layerloom screenshots")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))

    from layerloom.app.gui.document import Document
    from layerloom.app.gui.main_window import MainWindow
    from layerloom.app.workbench.demo import create_demo_project, demo_folder

    OUT.mkdir(parents=True, exist_ok=True)
    project = create_demo_project(demo_folder(scratch / "layerloom-demo"), epochs=6)
    window = MainWindow(Document.open(project), recovery_dir=scratch / "recovery")
    window.resize(*SIZE)
    window.show()
    settle(app, 1.0)
    # The graph as it opens (fitted, at a readable zoom) with the first convolution selected:
    # the shapes on the edges and the inspector readable, as a user sees it while editing.
    conv = window.document.graph.by_name("conv_1")
    window.view.fit()
    window.view.select_nodes([conv.id])
    settle(app)
    save(window, "editor.png")

    window.focus_panel("training")
    # The plots want height: the panel as a user drags it open to watch a run.
    window.resizeDocks([window.docks["training"]], [470], Qt.Orientation.Vertical)
    window.act.train.trigger()
    panel = window.training
    wait_until(app, lambda: not panel.running)
    panel.tabs.setCurrentWidget(panel.plots)
    settle(app, 1.0)
    save(window, "training.png")

    dialog = window.export_model()
    dialog.picker.buttons["tflite"].click()
    dialog.export_button.click()
    wait_until(app, lambda: not dialog.running)
    settle(app)
    save(dialog, "export.png")

    dialog.close()
    window.document.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
