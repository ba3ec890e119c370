"""The graph as a picture: PNG or SVG of the canvas's cards and edges, without the window.

File ▸ Export Graph Image… calls ``save_graph_image`` on the open document's scene. The CLI's
``layerloom graph-image P.loom -o F`` runs ``python -m layerloom.app.gui.render P.loom -o F``
as its own process, the way ``layerloom gui`` starts the editor: the CLI stays free of Qt (an
import contract), and this module reuses the very scene the editor draws.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

IMAGE_MARGIN = 40.0  # scene units of background around the cards
PNG_SCALE = 2.0  # device pixels per scene unit: sharp on HiDPI screens and in print
FORMATS = ("png", "svg")


def image_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"{path.name}: the image must end in .png or .svg, not {path.suffix!r}")
    return suffix


def save_graph_image(scene, path: Path) -> QSize:
    """Draw ``scene``'s cards and edges into ``path`` (.png or .svg, via a temporary sibling that
    then replaces it); returns the image size in pixels (SVG: scene units)."""
    path = Path(path)
    kind = image_format(path)
    rect = scene.nodes_rect() or QRectF(0.0, 0.0, 200.0, 120.0)
    for edge in scene.edges.values():  # a detour or a label may reach past the cards
        rect = rect.united(edge.sceneBoundingRect())
    rect = rect.adjusted(-IMAGE_MARGIN, -IMAGE_MARGIN, IMAGE_MARGIN, IMAGE_MARGIN)
    scene.clearSelection()
    tmp = path.with_name(f".{path.name}.tmp")
    if kind == "png":
        size = QSize(int(rect.width() * PNG_SCALE), int(rect.height() * PNG_SCALE))
        image = QImage(size, QImage.Format.Format_ARGB32)
        image.fill(QColor(scene.theme.background))
        _draw(scene, image, rect, size)
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"could not write {path}")
    else:
        size = QSize(int(rect.width()), int(rect.height()))
        generator = QSvgGenerator()
        generator.setFileName(str(tmp))
        generator.setSize(size)
        generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
        generator.setTitle(path.stem)
        _draw(scene, generator, rect, size, background=QColor(scene.theme.background))
    os.replace(tmp, path)
    return size


def _draw(scene, device, rect, size, background=None) -> None:
    painter = QPainter(device)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        target = QRectF(0, 0, size.width(), size.height())
        if background is not None:
            painter.fillRect(target, background)
        # The grid is the view's background, not the scene's: the picture is cards and edges only.
        scene.render(painter, target, rect, Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        painter.end()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="layerloom graph-image")
    parser.add_argument("project", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LAYERLOOM_WARM_WORKER"] = "0"  # a picture needs no TensorFlow worker

    from PySide6.QtWidgets import QApplication

    from layerloom.app.gui.canvas.scene import GraphScene
    from layerloom.app.gui.document import Document
    from layerloom.app.workbench import open_project
    from layerloom.nodes.errors import LayerloomError

    app = QApplication.instance() or QApplication([sys.argv[0]])
    try:
        image_format(args.output)
        opened = open_project(args.project, readonly=True)
    except (LayerloomError, ValueError, OSError) as error:
        print(f"layerloom graph-image: {error}", file=sys.stderr)
        return 1
    try:
        document = Document(opened)
        scene = GraphScene(document)
        size = save_graph_image(scene, args.output)
    except OSError as error:
        print(f"layerloom graph-image: {error}", file=sys.stderr)
        return 1
    finally:
        opened.project.close()
    print(f"wrote {args.output} ({size.width()}x{size.height()})")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
