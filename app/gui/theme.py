"""Look and feel: Fusion style, a light or dark palette following the system, a small style sheet.

Colours come from the palette, so widgets, the canvas and the style sheet agree; the style sheet only
adds roles the palette has no word for (section headings, error text). Sizes are in points or
font-relative units, never pixels of text, so HiDPI scaling stays correct.
"""

from __future__ import annotations

from importlib import resources

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

DARK = {
    QPalette.ColorRole.Window: "#2b2d31",
    QPalette.ColorRole.WindowText: "#e3e5e8",
    QPalette.ColorRole.Base: "#1f2023",
    QPalette.ColorRole.AlternateBase: "#26282c",
    QPalette.ColorRole.ToolTipBase: "#3a3d42",
    QPalette.ColorRole.ToolTipText: "#e3e5e8",
    QPalette.ColorRole.PlaceholderText: "#8a8f98",
    QPalette.ColorRole.Text: "#e3e5e8",
    QPalette.ColorRole.Button: "#34373c",
    QPalette.ColorRole.ButtonText: "#e3e5e8",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#45484e",
    QPalette.ColorRole.Midlight: "#3a3d42",
    QPalette.ColorRole.Mid: "#25272b",
    QPalette.ColorRole.Dark: "#1b1c1f",
    QPalette.ColorRole.Shadow: "#101113",
    QPalette.ColorRole.Highlight: "#3d7be0",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ea8ff",
    QPalette.ColorRole.LinkVisited: "#b18cff",
}
DARK_DISABLED = {
    QPalette.ColorRole.WindowText: "#7c8088",
    QPalette.ColorRole.Text: "#7c8088",
    QPalette.ColorRole.ButtonText: "#7c8088",
    QPalette.ColorRole.Highlight: "#4a4d53",
}


def is_dark(app: QApplication) -> bool:
    scheme = app.styleHints().colorScheme()
    return scheme == Qt.ColorScheme.Dark  # Unknown (no platform preference): light


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    for role, colour in DARK_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


SHEET_COLOURS = {
    False: {"secondary": "#5f6670", "rule": "#d5d8dd", "error": "#c62828", "ok": "#2e7d32"},
    True: {"secondary": "#a3a9b3", "rule": "#43464c", "error": "#ff7b72", "ok": "#7ee787"},
}


def style_sheet(dark: bool = False) -> str:
    """``resources/styles/app.qss`` with its ``@name`` colours filled in for the theme."""
    try:
        text = (resources.files("layerloom.resources") / "styles" / "app.qss").read_text(
            encoding="utf-8"
        )
    except OSError:
        return ""
    for name, colour in sorted(SHEET_COLOURS[dark].items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f"@{name}", colour)
    return text


def apply_theme(app: QApplication, dark: bool | None = None) -> None:
    """Fusion with a palette for the system's (or the given) colour scheme, plus the style sheet."""
    app.setStyle("Fusion")
    dark = is_dark(app) if dark is None else dark
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    app.setProperty("layerloom_dark", dark)
    app.setStyleSheet(style_sheet(dark))


def follow_system_theme(app: QApplication) -> None:
    apply_theme(app)
    # The signal's own scheme, as the platform may report it before colorScheme() catches up.
    app.styleHints().colorSchemeChanged.connect(
        lambda scheme: apply_theme(app, scheme == Qt.ColorScheme.Dark)
    )
