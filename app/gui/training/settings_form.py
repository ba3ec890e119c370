"""The training settings form, generated from the settings' Params (``nodes.training.SETTINGS``).

Each param gets the inspector's editor for its kind (``param_editors.editor_for``), so a new setting
appears here without GUI code. ``GROUPS`` only sorts known settings under headings; a setting it
does not name lands under "Other". Every edit is validated with the domain's own check
(``nodes.training.problems``); valid settings go to ``on_change`` (the panel stores them in the
project), problems are listed under the form and nothing is stored until they are fixed.

Other Params get the same form (``params=``, checked by each Param, with ``groups``/``rest_title``
for their headings): the export dialog's options form is one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.param_editors import ParamEditor, editor_for
from layerloom.nodes import training
from layerloom.nodes.params import Param

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Run", ("epochs", "batch_size", "seed", "augmentation")),
    ("Objective", ("loss", "metrics")),
    (
        "Optimizer",
        (
            "optimizer",
            "learning_rate",
            "momentum",
            "weight_decay",
            "schedule",
            "step_every",
            "step_factor",
        ),
    ),
    ("Callbacks", ("early_stopping", "reduce_lr_on_plateau", "plateau_patience")),
    ("Hardware", ("device", "mixed_precision", "xla", "batch_event_every")),
)
LABELS = {
    "learning_rate": "Learning rate",
    "lr": "Learning rate",
    "xla": "XLA",
    "reduce_lr_on_plateau": "Reduce LR on plateau",
    "batch_event_every": "Report every",
    # Export options (the export dialog builds its options form with this class too).
    "max_abs_error": "Max abs error",
    "min_top1_agreement": "Min top-1 agreement",
    "max_quantized_error": "Max quantized error",
    "opset": "ONNX opset",
}


def label_for(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def grouped(
    params, groups=GROUPS, rest_title: str | None = "Other"
) -> list[tuple[str | None, list[Param]]]:
    """Params under the ``groups`` headings; the rest under ``rest_title`` (None: no heading)."""
    by_name = {p.name: p for p in params}
    out, placed = [], set()
    for title, names in groups:
        members = [by_name[n] for n in names if n in by_name]
        placed.update(p.name for p in members)
        if members:
            out.append((title, members))
    rest = [p for p in params if p.name not in placed]
    if rest:
        out.append((rest_title, rest))
    return out


class SettingsForm(QWidget):
    """``values()`` is the full settings dict; ``settings_changed`` fires on every valid edit."""

    settings_changed = Signal(dict)

    def __init__(
        self,
        values: dict | None = None,
        on_change: Callable[[dict], None] | None = None,
        params=None,
        validate: Callable[[dict], list[str]] | None = None,
        groups=GROUPS,
        rest_title: str | None = "Other",
        parent=None,
    ):
        super().__init__(parent)
        self.params: tuple[Param, ...] = tuple(params if params is not None else training.SETTINGS)
        if validate is None:
            validate = training.problems if params is None else params_validator(self.params)
        self.validate = validate
        self.on_change = on_change
        self.defaults = {p.name: p.default for p in self.params}
        self._values = dict(self.defaults)
        self.editors: dict[str, ParamEditor] = {}

        # One form for every group, so labels and editors line up across the headings.
        host = QWidget()
        form = QFormLayout(host)
        form.setContentsMargins(6, 0, 6, 6)
        form.setVerticalSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for index, (title, members) in enumerate(grouped(self.params, groups, rest_title)):
            if title is not None:
                heading = QLabel(title)
                heading.setProperty("role", "secondary")
                heading.setStyleSheet(f"font-weight: 600; padding-top: {4 if index else 0}px;")
                form.addRow(heading)
            for param in members:
                editor = editor_for(param)
                editor.setAccessibleName(label_for(param.name))
                for combo in editor.findChildren(QComboBox):  # long choices must not widen it
                    combo.setSizeAdjustPolicy(
                        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                    )
                    combo.setMinimumContentsLength(10)
                editor.edited.connect(lambda value, name=param.name: self._on_edited(name, value))
                label = QLabel(label_for(param.name))
                label.setToolTip(param.doc)
                label.setBuddy(editor.focus_target())
                form.addRow(label, editor)
                self.editors[param.name] = editor
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(host)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        extent = scroll.style().pixelMetric(scroll.style().PixelMetric.PM_ScrollBarExtent)
        scroll.setMinimumWidth(host.minimumSizeHint().width() + extent + 2)

        self.problems_label = QLabel()
        self.problems_label.setProperty("role", "error")
        self.problems_label.setWordWrap(True)
        self.problems_label.hide()
        self.reset_button = QPushButton("Reset to Defaults")
        self.reset_button.setToolTip(
            "Use the default value of every training setting"
            if params is None
            else "Use the default value of every option"
        )
        self.reset_button.clicked.connect(self.reset_to_defaults)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(6, 0, 6, 4)
        buttons.addStretch(1)
        buttons.addWidget(self.reset_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problems_label)
        layout.addLayout(buttons)
        self.set_values(values or {})

    # --- values -------------------------------------------------------------------------------
    def values(self) -> dict:
        return dict(self._values)

    def set_values(self, values: dict) -> None:
        """Show ``values`` (missing ones: defaults) without storing anything."""
        self._values = {**self.defaults, **{k: v for k, v in values.items() if k in self.defaults}}
        for name, editor in self.editors.items():
            editor.set_value(self._values[name])
        self._show_problems(self.validate(self._values))

    def problems(self) -> list[str]:
        return self.validate(self._values)

    def edit(self, name: str, value) -> list[str]:
        """Set one value as if the user typed it (editor included); returns the problems."""
        self.editors[name].set_value(value)
        return self._on_edited(name, value)

    def reset_to_defaults(self) -> None:
        self.set_values({})
        self._store()

    def _on_edited(self, name: str, value) -> list[str]:
        param = next(p for p in self.params if p.name == name)
        self._values[name] = param.normalize(value)
        return self._store()

    def _store(self) -> list[str]:
        found = self.validate(self._values)
        self._show_problems(found)
        if not found:
            if self.on_change is not None:
                self.on_change(self.values())
            self.settings_changed.emit(self.values())
        return found

    def _show_problems(self, found: list[str]) -> None:
        self.problems_label.setText("\n".join(f"• {p}" for p in found))
        self.problems_label.setVisible(bool(found))


def params_validator(params) -> Callable[[dict], list[str]]:
    """Each value checked by its own Param (for a form over other params than training's)."""
    by_name = {p.name: p for p in params}

    def check(values: dict) -> list[str]:
        found = (by_name[name].check(value) for name, value in values.items() if name in by_name)
        return [message for message in found if message]

    return check
