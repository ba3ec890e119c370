"""Parameter editors are generated from param kinds for every registered spec."""

from __future__ import annotations

import pytest

from layerloom.app.gui.param_editors import (
    EDITORS,
    BoolEditor,
    ChoiceEditor,
    FloatEditor,
    FloatsTextEditor,
    IntEditor,
    IntsRowEditor,
    IntsTextEditor,
    JsonEditor,
    OptionalEditor,
    StrEditor,
    editor_for,
    format_ints,
    parse_ints,
    register_editor,
)
from layerloom.nodes.params import Bool, Choice, Float, Int, Ints, Param, Str

EXPECTED = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "str": StrEditor,
    "floats": FloatsTextEditor,
    "any": JsonEditor,  # free-form values (an imported placeholder's recorded config)
}


def test_a_list_of_numbers_is_typed_and_refused_by_name(qtbot) -> None:
    from layerloom.nodes.params import Floats

    editor = editor_for(Floats("mean", None, "fixed mean", optional=False))
    qtbot.addWidget(editor)
    seen = []
    editor.edited.connect(seen.append)
    editor.edit.textEdited.emit("0.5, 1e-3")
    editor.edit.textEdited.emit("0.5, x")
    assert seen == [(0.5, 0.001)]
    assert "not a list of numbers" in editor.edit.toolTip()


def test_every_param_of_every_spec_gets_an_editor_showing_its_default(qtbot, registry):
    for spec in registry:
        for param in spec.params:
            editor = editor_for(param)
            qtbot.addWidget(editor)
            inner = editor.inner if param.optional else editor
            assert isinstance(editor, OptionalEditor) == param.optional
            if param.kind == "ints":
                fixed = param.length is not None and not param.allow_none
                assert isinstance(inner, IntsRowEditor if fixed else IntsTextEditor)
            else:
                assert isinstance(inner, EXPECTED[param.kind]), (spec.type_id, param.name)
            seen = []
            editor.edited.connect(seen.append)
            editor.set_value(param.default)  # showing a value never emits an edit
            assert seen == []


def test_int_and_float_ranges_come_from_the_param(qtbot):
    units = IntEditor(Int("units", 8, min=1, max=4096))
    rate = FloatEditor(Float("rate", 0.5, min=0.0, max=0.99))
    qtbot.addWidget(units)
    qtbot.addWidget(rate)
    assert (units.spin.minimum(), units.spin.maximum()) == (1, 4096)
    assert (rate.spin.minimum(), rate.spin.maximum()) == (0.0, 0.99)
    assert rate.spin.singleStep() == 0.05


def test_float_spin_keeps_every_digit(qtbot):
    editor = FloatEditor(Float("scale", 1 / 255))
    qtbot.addWidget(editor)
    editor.set_value(1 / 255)
    assert editor.spin.value() == 1 / 255
    assert editor.spin.text() == repr(1 / 255)
    epsilon = FloatEditor(Float("epsilon", 1e-3, min=1e-12, max=1.0))
    qtbot.addWidget(epsilon)
    assert epsilon.spin.singleStep() == pytest.approx(1e-3)


def test_edits_emit_the_typed_value(qtbot):
    choice = ChoiceEditor(Choice("padding", "valid", choices=("valid", "same")))
    row = IntsRowEditor(Ints("kernel_size", (3, 3), length=2, min=1))
    flag = BoolEditor(Bool("use_bias", True))
    text = StrEditor(Str("name", ""))
    seen = []
    for editor in (choice, row, flag, text):
        qtbot.addWidget(editor)
        editor.edited.connect(seen.append)
    choice.combo.setCurrentIndex(1)
    row.set_value((3, 3))
    row.spins[1].setValue(5)
    flag.check.setChecked(True)
    qtbot.keyClicks(text.edit, "ab")
    assert seen == ["same", (3, 5), True, "a", "ab"]


def test_parse_and_format_ints():
    assert parse_ints("3, 4") == (3, 4)
    assert parse_ints("(28, 28, 1)") == (28, 28, 1)
    assert parse_ints("?, 64", allow_none=True) == (None, 64)
    assert format_ints((None, 64)) == "?, 64"
    for bad in ("", "3, x", "3,"):
        with pytest.raises(ValueError):
            parse_ints(bad, allow_none=True)


def test_optional_wrapper_emits_none_when_unset(qtbot):
    editor = editor_for(Int("value_dim", None, optional=True, min=1))
    qtbot.addWidget(editor)
    seen = []
    editor.edited.connect(seen.append)
    editor.set_value(None)
    editor.check.setChecked(True)
    editor.inner.spin.setValue(16)
    editor.check.setChecked(False)
    assert seen == [1, 16, None]


def test_plugins_register_editors_for_new_kinds_and_unknown_kinds_fall_back(qtbot, monkeypatch):
    class Colour(Param):
        kind = "colour"

    param = Colour("tint", "#fff")
    fallback = editor_for(param)
    qtbot.addWidget(fallback)
    assert isinstance(fallback, JsonEditor)
    monkeypatch.setitem(EDITORS, "colour", StrEditor)
    assert isinstance(editor_for(param), StrEditor)
    register_editor("colour", JsonEditor)
    assert EDITORS["colour"] is JsonEditor
