"""Light and dark themes follow the system, icons stay sharp at any device-pixel ratio, and the
window remembers its geometry and recent files between sessions."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPalette

from layerloom.app.gui.icons import icon
from layerloom.app.gui.theme import apply_theme, follow_system_theme


def test_theme_follows_the_systems_colour_scheme(qapp):
    # The offscreen platform has no system scheme to switch, so the test sends the signal a
    # desktop sends when the user switches to dark and back.
    hints = qapp.styleHints()
    try:
        follow_system_theme(qapp)
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        assert qapp.property("layerloom_dark") is True
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert qapp.property("layerloom_dark") is False
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 160
    finally:
        hints.colorSchemeChanged.disconnect()
        apply_theme(qapp, dark=False)


def test_icons_render_at_the_device_pixel_ratio():
    sharp = icon("zoom-fit").pixmap(QSize(24, 24), 2.0, QIcon.Mode.Normal)
    assert sharp.devicePixelRatio() == 2.0
    assert sharp.size() == QSize(48, 48)  # drawn from the SVG at 2x, not a scaled 24 px bitmap
    image = sharp.toImage()
    assert any(image.pixelColor(x, y).alpha() for x in range(48) for y in range(48))


def test_geometry_and_recent_files_are_remembered(make_window, qtbot, tmp_path):
    window, _ = make_window()
    window.resize(701, 503)  # inside the offscreen screen, which clamps restored geometry
    window.show()
    qtbot.waitExposed(window)
    project = tmp_path / "niño.loom"
    project.write_bytes(b"")
    window.recent.add(project)
    window.close()
    again, _ = make_window()
    assert (again.width(), again.height()) == (701, 503)
    assert again.recent.paths() == [project.resolve()]
