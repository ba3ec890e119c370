"""Parameter editors generated from a param's semantic kind (``nodes.params``).

``EDITORS`` maps a kind (``"int"``, ``"float"``, ...) to a factory ``(Param) -> ParamEditor``. The
inspector looks the kind up here and never branches on kinds itself, so a plugin with a new kind
registers one factory with ``register_editor``. Unknown kinds fall back to a JSON text editor, so a
plugin's parameters can still be seen and changed.

Every editor shows a value with ``set_value`` (without emitting) and emits ``edited(value)`` when the
user changes it to a valid value. Optional params are wrapped in ``OptionalEditor``: a "set" checkbox,
unchecked meaning None (Keras' own default).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from layerloom.nodes.params import Param

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int
FLOAT_LIMIT = 1e12


def compact(spin: QAbstractSpinBox, chars: int = 6) -> QAbstractSpinBox:
    """Size a spin box by the font, not by its (huge) range, so rows of them fit a narrow panel."""
    spin.setMinimumWidth(spin.fontMetrics().averageCharWidth() * chars + 24)
    spin.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return spin


class ParamEditor(QWidget):
    """One parameter's editor. Subclasses implement ``set_value``; they emit ``edited``."""

    edited = Signal(object)

    def __init__(self, param: Param, parent=None):
        super().__init__(parent)
        self.param = param
        self.setToolTip(param.doc)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)

    def set_value(self, value) -> None:
        raise NotImplementedError

    def placeholder(self):
        """A valid value to show when an optional param is switched on from None."""
        return self.param.default

    def focus_target(self) -> QWidget:
        return self


class IntEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.spin = compact(QSpinBox())
        low = param.min if param.min is not None else -INT_LIMIT
        high = param.max if param.max is not None else INT_LIMIT
        self.spin.setRange(max(low, -INT_LIMIT), min(high, INT_LIMIT))
        self.spin.setAccelerated(True)
        self.spin.valueChanged.connect(self.edited.emit)
        self.layout().addWidget(self.spin)
        self.setFocusProxy(self.spin)

    def set_value(self, value) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(int(value))

    def placeholder(self):
        return max(self.param.min if self.param.min is not None else 1, 1)


class FloatSpinBox(QDoubleSpinBox):
    """A spin box that shows the shortest exact text of a float (1e-05, 0.00392156862745098).

    Qt rounds values to ``decimals``; 20 keeps every digit a user types for the values layers take,
    while the text stays short instead of twenty trailing zeros.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(20)

    def textFromValue(self, value):
        return repr(float(value))

    def valueFromText(self, text):
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        stripped = text.strip()
        if stripped in ("", "-", "+", ".", "-.", "+.") or stripped.lower().endswith(("e", "e-")):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if not math.isfinite(value):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class FloatEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.spin = compact(FloatSpinBox(), 10)
        low = param.min if param.min is not None else -FLOAT_LIMIT
        high = param.max if param.max is not None else FLOAT_LIMIT
        self.spin.setRange(low, high)
        self.spin.setSingleStep(self._step(param))
        self.spin.valueChanged.connect(self.edited.emit)
        self.layout().addWidget(self.spin)
        self.setFocusProxy(self.spin)

    @staticmethod
    def _step(param: Param) -> float:
        """Fractions (rates, factors) step by 0.05; tiny constants step by their own magnitude."""
        default = param.default if isinstance(param.default, (int, float)) else 0.0
        if default and abs(default) < 0.01:
            return 10 ** math.floor(math.log10(abs(default)))
        if param.max is not None and param.max <= 1:
            return 0.05
        return 0.1

    def set_value(self, value) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(float(value))

    def placeholder(self):
        low = self.param.min if self.param.min is not None else 0.0
        high = self.param.max if self.param.max is not None else FLOAT_LIMIT
        return min(max(1.0, low), high)


class BoolEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.check = QCheckBox()
        self.check.toggled.connect(self.edited.emit)
        self.layout().addWidget(self.check)
        self.layout().addStretch(1)
        self.setFocusProxy(self.check)

    def set_value(self, value) -> None:
        with QSignalBlocker(self.check):
            self.check.setChecked(bool(value))

    def placeholder(self):
        return False


class ChoiceEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.combo = QComboBox()
        for choice in param.choices:
            self.combo.addItem(str(choice))
        self.combo.currentIndexChanged.connect(self._on_index)
        self.layout().addWidget(self.combo)
        self.setFocusProxy(self.combo)

    def _on_index(self, index: int) -> None:
        if 0 <= index < len(self.param.choices):
            self.edited.emit(self.param.choices[index])

    def set_value(self, value) -> None:
        with QSignalBlocker(self.combo):
            if value in self.param.choices:
                self.combo.setCurrentIndex(list(self.param.choices).index(value))
            else:  # a value from a newer file: show it rather than silently replacing it
                self.combo.setCurrentIndex(-1)
                self.combo.setPlaceholderText(str(value))

    def placeholder(self):
        return self.param.choices[0] if self.param.choices else None


class IntsRowEditor(ParamEditor):
    """A fixed number of integers: one spin box each (kernel 3 x 3, padding top/bottom/left/right)."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.spins: list[QSpinBox] = []
        low = param.min if param.min is not None else -INT_LIMIT
        for _ in range(param.length):
            spin = compact(QSpinBox(), 3)
            spin.setRange(max(low, -INT_LIMIT), INT_LIMIT)
            spin.valueChanged.connect(self._emit)
            self.layout().addWidget(spin, 1)
            self.spins.append(spin)
        self.setFocusProxy(self.spins[0])

    def _emit(self) -> None:
        self.edited.emit(tuple(s.value() for s in self.spins))

    def set_value(self, value) -> None:
        for spin, item in zip(self.spins, value, strict=False):
            with QSignalBlocker(spin):
                spin.setValue(int(item))

    def placeholder(self):
        return (max(self.param.min if self.param.min is not None else 1, 1),) * self.param.length


def parse_ints(text: str, allow_none: bool = False) -> tuple:
    """``"3, 4"`` -> ``(3, 4)``; with ``allow_none``, ``?`` or ``None`` is an unknown size."""
    body = text.strip().strip("()[]").strip()
    if not body:
        raise ValueError("enter at least one value")
    items = []
    for raw in body.split(","):
        item = raw.strip()
        if allow_none and item.lower() in ("?", "none"):
            items.append(None)
            continue
        try:
            items.append(int(item))
        except ValueError:
            raise ValueError(f"{item!r} is not a whole number") from None
    return tuple(items)


def format_ints(value) -> str:
    return ", ".join("?" if item is None else str(item) for item in value)


class IntsTextEditor(ParamEditor):
    """Any number of integers typed as ``3, 4`` (and ``?`` for an unknown size where allowed)."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.edit = QLineEdit()
        hint = "e.g. 28, 28, 1" + (" (? = any size)" if self._allows_none(param) else "")
        self.edit.setPlaceholderText(hint)
        self.edit.textEdited.connect(self._on_text)
        self.layout().addWidget(self.edit)
        self.setFocusProxy(self.edit)

    @staticmethod
    def _allows_none(param: Param) -> bool:
        return param.kind == "ints" and bool(param.allow_none)

    def _parse(self, text: str):
        value = parse_ints(text, self.param.allow_none)
        problem = self.param.check(value)
        if problem:
            raise ValueError(problem)
        return value

    def _on_text(self, text: str) -> None:
        try:
            value = self._parse(text)
        except ValueError as error:
            self._mark(str(error))
            return
        self._mark(None)
        self.edited.emit(value)

    def _mark(self, problem: str | None) -> None:
        self.edit.setProperty("invalid", problem is not None)
        self.edit.setToolTip(problem or self.param.doc)
        self.edit.style().unpolish(self.edit)
        self.edit.style().polish(self.edit)

    def set_value(self, value) -> None:
        try:
            if self._parse(self.edit.text()) == tuple(value):
                return  # the user's own spelling of the same value: keep it (and the cursor)
        except ValueError:
            pass
        self.edit.setText(format_ints(value))
        self._mark(None)

    def placeholder(self):
        return (max(self.param.min if self.param.min is not None else 1, 1),)


def parse_floats(text: str) -> tuple:
    """``"0.5, 1e-3"`` -> ``(0.5, 0.001)``."""
    body = text.strip().strip("()[]").strip()
    if not body:
        raise ValueError("enter at least one value")
    try:
        return tuple(float(item) for item in body.split(","))
    except ValueError:
        raise ValueError(f"{body!r} is not a list of numbers") from None


class FloatsTextEditor(IntsTextEditor):
    """Any number of numbers typed as ``0.5, 1e-3`` (fixed statistics, say)."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.edit.setPlaceholderText("e.g. 0.5, 0.25, 1")

    def _parse(self, text: str):
        value = parse_floats(text)
        problem = self.param.check(value)
        if problem:
            raise ValueError(problem)
        return value

    def set_value(self, value) -> None:
        try:
            if self._parse(self.edit.text()) == tuple(value):
                return
        except ValueError:
            pass
        self.edit.setText(", ".join(f"{item:g}" for item in value))
        self._mark(None)

    def placeholder(self):
        return (0.0,)


class StrEditor(ParamEditor):
    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.edit = QLineEdit()
        self.edit.textEdited.connect(self.edited.emit)
        self.layout().addWidget(self.edit)
        self.setFocusProxy(self.edit)

    def set_value(self, value) -> None:
        if self.edit.text() != value:
            self.edit.setText(str(value))

    def placeholder(self):
        return ""


class JsonEditor(ParamEditor):
    """Fallback for kinds without an editor: the value as JSON text."""

    def __init__(self, param: Param, parent=None):
        super().__init__(param, parent)
        self.edit = QLineEdit()
        self.edit.editingFinished.connect(self._on_finished)
        self.layout().addWidget(self.edit)
        self.setFocusProxy(self.edit)

    def _on_finished(self) -> None:
        try:
            value = json.loads(self.edit.text())
        except ValueError:
            return
        self.edited.emit(value)

    def set_value(self, value) -> None:
        self.edit.setText(json.dumps(value))


class OptionalEditor(ParamEditor):
    """Wraps an editor with a "set" checkbox: unchecked means None (the layer's own default)."""

    def __init__(self, inner: ParamEditor, parent=None):
        super().__init__(inner.param, parent)
        self.inner = inner
        self.check = QCheckBox("set")
        self.check.setToolTip(f"Unchecked: leave {inner.param.name} unset (Keras' default)")
        self.check.toggled.connect(self._on_toggled)
        inner.edited.connect(self._on_inner)
        self.layout().addWidget(self.check)
        self.layout().addWidget(inner, 1)
        self._last = inner.placeholder()
        self.setFocusProxy(self.check)

    def _on_toggled(self, checked: bool) -> None:
        self.inner.setEnabled(checked)
        if checked:
            self.inner.set_value(self._last)
        self.edited.emit(self._last if checked else None)

    def _on_inner(self, value) -> None:
        self._last = value
        if self.check.isChecked():
            self.edited.emit(value)

    def set_value(self, value) -> None:
        with QSignalBlocker(self.check):
            self.check.setChecked(value is not None)
        self.inner.setEnabled(value is not None)
        if value is not None:
            self._last = value
            self.inner.set_value(value)
        else:
            self.inner.set_value(self._last)


def _ints_editor(param: Param) -> ParamEditor:
    if param.length is not None and not getattr(param, "allow_none", False):
        return IntsRowEditor(param)
    return IntsTextEditor(param)


EditorFactory = Callable[[Param], ParamEditor]

EDITORS: dict[str, EditorFactory] = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "ints": _ints_editor,
    "floats": FloatsTextEditor,
    "str": StrEditor,
}


def register_editor(kind: str, factory: EditorFactory) -> None:
    """Let a plugin that adds a param kind supply its editor."""
    EDITORS[kind] = factory


def editor_for(param: Param) -> ParamEditor:
    editor = EDITORS.get(param.kind, JsonEditor)(param)
    return OptionalEditor(editor) if param.optional else editor
