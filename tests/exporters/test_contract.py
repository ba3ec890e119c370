"""The exporter contract: the registry, declared options (as the dialog and --opt read them)."""

from __future__ import annotations

import pytest

from layerloom.exporters.base import Exporter, ExportError, parse_option
from layerloom.exporters.registry import ORDER, default_exporters
from layerloom.nodes.params import Bool, Choice, Float, Int


def test_every_target_of_the_issue_is_registered_in_dialog_order() -> None:
    assert default_exporters().targets() == list(ORDER)
    for exporter in default_exporters():
        described = exporter.describe()
        assert described["title"] and described["summary"]
        assert exporter.unavailable() is None, exporter.unavailable()


def test_an_unknown_target_names_the_known_ones() -> None:
    with pytest.raises(ExportError, match="unknown export target 'phone'.*tflite"):
        default_exporters()["phone"]


@pytest.mark.parametrize(
    ("param", "text", "value"),
    [
        (Int("n", 1), "17", 17),
        (Float("x", 0.0), "1e-3", 1e-3),
        (Bool("b", False), "yes", True),
        (Bool("b", True), "off", False),
        (Choice("c", "a", choices=("a", "b")), "b", "b"),
    ],
)
def test_cli_strings_become_the_option_kind(param, text, value) -> None:
    assert parse_option(param, text) == value


class _Needs(Exporter):
    target = "needs"
    title = "Needs things"
    summary = "an exporter with declared options and requirements"
    options = (Int("opset", 17, min=13, max=18), Bool("flag", False))
    requires = ("no_such_module_layerloom", "exe:no-such-program-layerloom")

    def export(self, ctx):  # pragma: no cover - never run
        raise NotImplementedError

    def predict(self, artifact, ctx, inputs):  # pragma: no cover - never run
        raise NotImplementedError


def test_options_are_resolved_checked_and_unknown_ones_refused() -> None:
    exporter = _Needs()
    assert exporter.resolve_options({}) == {"opset": 17, "flag": False}
    assert exporter.resolve_options({"opset": "13", "flag": "true"}) == {"opset": 13, "flag": True}
    with pytest.raises(ExportError, match="option opset.*<= 18"):
        exporter.resolve_options({"opset": "19"})
    with pytest.raises(ExportError, match="no option 'quant'.*opset, flag"):
        exporter.resolve_options({"quant": "int8"})
    with pytest.raises(ExportError, match="opset"):
        exporter.resolve_options({"opset": "seventeen"})


def test_a_missing_package_makes_a_target_unavailable_with_its_name() -> None:
    assert "no_such_module_layerloom" in _Needs().unavailable()
