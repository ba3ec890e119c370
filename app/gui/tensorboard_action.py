"""Run ▸ Export TensorBoard Logs…: every run of the open project as TensorBoard logs.

The project is read on the GUI thread (``workbench.tensorboard.prepare``); the event files are
written by a worker (the warm one when it suits) while the GUI stays responsive, and the outcome
is shown in the status bar, or as an error box that speaks GUI.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from layerloom.app.gui.training.offthread import Task, run_off_thread
from layerloom.app.workbench import tensorboard
from layerloom.nodes.errors import LayerloomError

TITLE = "Could Not Export TensorBoard Logs"


def ask_log_folder(window, start: Path) -> str:
    """The folder to write into ("" when the user cancels); tests replace this."""
    return QFileDialog.getExistingDirectory(window, "Export TensorBoard Logs To", str(start))


def export_tensorboard_logs(window) -> Task | None:
    """Ask for a folder and write the logs there in the background; the task, or None when
    nothing started (no saved project, no runs, or the dialog was cancelled)."""
    document = window.document
    if document.opened is None:
        window.show_error(
            TITLE, "This project has no runs yet: save it, then train it (Run ▸ Train)."
        )
        return None
    folder = ask_log_folder(window, document.path.parent / "tensorboard")
    if not folder:
        return None
    try:
        prepared = tensorboard.prepare(document.opened, folder)
    except LayerloomError as error:
        window.show_error(TITLE, str(error))
        return None
    window.show_message("Writing TensorBoard logs…", 0)

    def done(logs, error) -> None:
        if error is not None:
            window.show_error(TITLE, error)
            return
        count = len(logs.runs)
        runs = f"{count} run{'s' if count != 1 else ''}"
        window.show_message(
            f"TensorBoard logs of {runs} written to {logs.folder} (one run-N folder per run): "
            "open that folder in TensorBoard",
            15000,
        )

    return run_off_thread(
        lambda _report: tensorboard.write_prepared(prepared), done, name="layerloom-tensorboard"
    )
