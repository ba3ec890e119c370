"""The export dialog's target chooser: one big button per registered exporter.

Each button shows the target's icon, title and one-line summary. A target that cannot be used is
disabled and says why on the button itself (the reason also is its tooltip), so nobody has to hover
to learn that TF.js needs a package or that a node is refused.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.icons import has_icon, icon
from layerloom.app.gui.theme import SHEET_COLOURS

ICON_EM = 2.2  # icon size in line heights


def is_dark_palette() -> bool:
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def sheet_colours() -> dict[str, str]:
    """The style sheet's named colours (secondary, rule, error, ok) for the current palette."""
    return SHEET_COLOURS[is_dark_palette()]


def _blend(a: QColor, b: QColor, t: float) -> str:
    mix = QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )
    return mix.name()


def target_sheet() -> str:
    """Card-like buttons: a thin rule, the highlight colour when hovered or chosen."""
    palette = QApplication.palette()
    base = palette.color(QPalette.ColorRole.Base)
    highlight = palette.color(QPalette.ColorRole.Highlight)
    colours = sheet_colours()
    return f"""
    QPushButton[role="target"] {{
        text-align: left; padding: 0; border: 1px solid {colours["rule"]};
        border-radius: 6px; background: {base.name()};
    }}
    QPushButton[role="target"]:hover {{ border-color: {highlight.name()}; }}
    QPushButton[role="target"]:checked {{
        border: 2px solid {highlight.name()}; background: {_blend(base, highlight, 0.12)};
    }}
    QPushButton[role="target"]:disabled {{
        border-style: dashed; background: transparent;
    }}
    QPushButton[role="target"] QLabel {{ background: transparent; }}
    """


class TargetButton(QPushButton):
    """A checkable card: icon | title / summary / why it is unavailable."""

    def __init__(self, exporter, parent=None):
        super().__init__(parent)
        self.target = exporter.target
        self.title = exporter.title
        self.setProperty("role", "target")
        self.setCheckable(True)
        self.setAccessibleName(exporter.title)
        self.setAccessibleDescription(exporter.summary)
        line = self.fontMetrics().height()
        size = round(line * ICON_EM)
        self.icon_label = QLabel()
        name = f"target-{exporter.target}"
        self.icon_label.setPixmap(
            icon(name if has_icon(name) else "export").pixmap(QSize(size, size))
        )
        self.icon_label.setFixedSize(size, size)
        self.title_label = QLabel(exporter.title)
        self.title_label.setStyleSheet("font-weight: 600;")
        self.summary_label = QLabel(exporter.summary)
        self.summary_label.setProperty("role", "secondary")
        self.summary_label.setWordWrap(True)
        self.reason_label = QLabel()
        self.reason_label.setWordWrap(True)
        self.reason_label.hide()
        for label in (self.icon_label, self.title_label, self.summary_label, self.reason_label):
            # Clicks go to the button underneath; the labels only draw.
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 8, 10, 8)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(1)
        grid.addWidget(self.icon_label, 0, 0, 3, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.title_label, 0, 1)
        grid.addWidget(self.summary_label, 1, 1)
        grid.addWidget(self.reason_label, 2, 1)
        grid.setColumnStretch(1, 1)
        self.reason: str | None = None
        self.set_reason(None)

    def set_reason(self, reason: str | None, details: str | None = None) -> None:
        """Disable the button and show ``reason`` (None: usable). ``details`` is its tooltip."""
        self.reason = reason
        self.setEnabled(reason is None)
        self.reason_label.setText(reason or "")
        self.reason_label.setStyleSheet(f"color: {sheet_colours()['error']};")
        self.reason_label.setVisible(reason is not None)
        self.setToolTip(details or reason or self.summary_label.text())
        self.updateGeometry()

    # The labels' layout decides the size (a push button's own hint only knows its text).
    def sizeHint(self):
        return self.layout().sizeHint()

    def minimumSizeHint(self):
        return self.layout().minimumSize()

    def hasHeightForWidth(self):
        return True

    def heightForWidth(self, width):
        return self.layout().totalHeightForWidth(width)


class TargetPicker(QWidget):
    """The column of target buttons; ``chosen(target)`` when the user picks another one."""

    chosen = Signal(str)

    def __init__(self, exporters, parent=None):
        super().__init__(parent)
        self.buttons: dict[str, TargetButton] = {}
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for exporter in exporters:
            button = TargetButton(exporter)
            button.toggled.connect(
                lambda checked, target=exporter.target: checked and self.chosen.emit(target)
            )
            self.group.addButton(button)
            self.buttons[exporter.target] = button
            layout.addWidget(button)
        layout.addStretch(1)
        self.setStyleSheet(target_sheet())

    def current(self) -> str | None:
        button = self.group.checkedButton()
        return button.target if button is not None else None

    def select(self, target: str | None) -> None:
        """Choose ``target`` and emit ``chosen`` ("" when no target is usable); a disabled one gives
        way to the first usable."""
        button = self.buttons.get(target) if target else None
        if button is None or not button.isEnabled():
            button = next((b for b in self.buttons.values() if b.isEnabled()), None)
        if button is None:
            checked = self.group.checkedButton()
            if checked is not None:  # nothing usable: nothing chosen
                self.group.setExclusive(False)
                checked.setChecked(False)
                self.group.setExclusive(True)
            self.chosen.emit("")
        elif button.isChecked():
            self.chosen.emit(button.target)  # re-chosen: the dialog re-reads its state
        else:
            button.setChecked(True)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # A vertical box does not give word-wrapped cards the height their width needs: set it.
        width = event.size().width()
        for button in self.buttons.values():
            button.setMinimumHeight(button.heightForWidth(width))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light <-> dark while open
            self.setStyleSheet(target_sheet())
