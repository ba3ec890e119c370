"""File ▸ Export Graph Image…: the open graph as a PNG or SVG (the renderer is render.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from layerloom.app.gui.render import save_graph_image

FILTERS = "PNG image (*.png);;SVG image (*.svg)"


def ask_image_path(window) -> str:
    document = window.document
    stem = document.path.stem if document.path else "graph"
    folder = document.path.parent if document.path else Path.home()
    path, chosen = QFileDialog.getSaveFileName(
        window, "Export Graph Image", str(folder / f"{stem}.png"), FILTERS
    )
    if path and not Path(path).suffix:
        path += ".svg" if "svg" in chosen.lower() else ".png"
    return path


def export_graph_image(window, path: str | Path | None = None) -> Path | None:
    """Write the graph as the canvas draws it; the window's status bar says where it went."""
    path = path or ask_image_path(window)
    if not path:
        return None
    path = Path(path)
    try:
        size = save_graph_image(window.view.graph_scene, path)
    except (OSError, ValueError) as error:
        window.show_error("Could Not Export Graph Image", str(error))
        return None
    window.show_message(f"Saved {path.name} ({size.width()}×{size.height()})")
    return path
