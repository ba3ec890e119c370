"""Toolbar and menu icons: line-art SVGs in ``resources/icons`` drawn in the palette's text colour.

The SVGs use ``currentColor``; ``icon(name)`` renders them through QSvgRenderer at whatever size and
device-pixel ratio Qt asks for, so they stay sharp on HiDPI screens and follow light/dark themes.
One consistent set on every desktop, rather than a mix with whatever icon theme is installed.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

ACCENT = "#3d7be0"


@cache
def _svg(name: str) -> str:
    return (resources.files("layerloom.resources") / "icons" / f"{name}.svg").read_text(
        encoding="utf-8"
    )


class SvgIconEngine(QIconEngine):
    def __init__(self, name: str, colour: str | None = None):
        super().__init__()
        self.name = name
        self.colour = colour

    def _colour(self, mode) -> str:
        if self.colour:
            return self.colour
        group = (
            QPalette.ColorGroup.Disabled
            if mode == QIcon.Mode.Disabled
            else QPalette.ColorGroup.Normal
        )
        return QGuiApplication.palette().color(group, QPalette.ColorRole.ButtonText).name()

    def paint(self, painter, rect, mode, state):
        svg = _svg(self.name).replace("currentColor", self._colour(mode))
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        renderer.render(painter, QRectF(rect))

    def pixmap(self, size, mode, state):
        pixmap = QPixmap(size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint(painter, pixmap.rect(), mode, state)
        painter.end()
        return pixmap

    def scaledPixmap(self, size, mode, state, scale):
        pixmap = self.pixmap(
            QSize(int(size.width() * scale), int(size.height() * scale)), mode, state
        )
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def clone(self):
        return SvgIconEngine(self.name, self.colour)


def has_icon(name: str) -> bool:
    return (resources.files("layerloom.resources") / "icons" / f"{name}.svg").is_file()


def icon(name: str) -> QIcon:
    return QIcon(SvgIconEngine(name))


def app_icon() -> QIcon:
    return QIcon(SvgIconEngine("app-icon", ACCENT))
