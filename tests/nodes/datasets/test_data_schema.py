"""Schema inference and editing, and the drift measures, on hand-made statistics."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.nodes.datasets.data_schema import edit_schema, infer_schema, js_divergence
from layerloom.nodes.errors import DatasetError


def statistics() -> dict:
    numeric = {"finite": 10, "min": 0.0, "max": 10.0}
    categorical = {"distinct": 2, "distinct_exact": True, "top": [["b", 3], ["a", 7]], "other": 0}
    return {
        "path": "t.csv",
        "rows": 10,
        "target": "y",
        "class_balance": {"0": 4, "1": 6},
        "features": [
            {"name": "a.b", "type": "numeric", "missing": 0, "numeric": numeric},
            {"name": "x=y", "type": "categorical", "missing": 2, "categorical": categorical},
            {"name": "y", "type": "numeric", "missing": 0, "numeric": numeric},
        ],
    }


def test_inferred_ranges_values_labels_and_defaults() -> None:
    schema = infer_schema(statistics())
    a, x, y = schema["features"]
    assert (a["min"], a["max"], a["drift"], a["missing"]) == (-1.0, 11.0, 0.1, False)
    assert (x["values"], x["drift"], x["missing"]) == (["a", "b"], 0.2, True)
    # A classification target with number labels is categorical: its labels are its values.
    assert (y["type"], y["values"], y["min"]) == ("categorical", ["0", "1"], None)


def test_edits_take_names_with_dots_and_equals_signs() -> None:
    schema = edit_schema(
        infer_schema(statistics()),
        ["a.b.min=2", "a.b.drift=off", "x=y.values=p, q", "x=y.required=false", "y.type=numeric"],
    )
    a, x, y = schema["features"]
    assert (a["min"], a["drift"]) == (2.0, None)
    assert (x["values"], x["required"], y["type"]) == (["p", "q"], False, "numeric")


@pytest.mark.parametrize(
    "edit, message",
    [
        ("nope.min=1", "no column"),
        ("a.b.min=x", "not a number"),
        ("a.b.min=inf", "not a finite"),
        ("a.b.colour=1", "COLUMN.KEY=VALUE"),
        ("a.b.required=perhaps", "true or false"),
        ("a.b.type=text", "numeric nor categorical"),
        ("a.b.min=20", "min 20.0 > max"),
    ],
)
def test_bad_edits_are_one_line_errors(edit: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message) as caught:
        edit_schema(infer_schema(statistics()), [edit])
    assert "\n" not in str(caught.value)


def test_jensen_shannon_divergence_bounds() -> None:
    p = np.array([0.5, 0.5, 0.0])
    assert js_divergence(p, p) == 0.0
    assert js_divergence(p, np.array([0.0, 0.0, 1.0])) == pytest.approx(1.0)
    assert 0 < js_divergence(p, np.array([0.4, 0.6, 0.0])) < 0.01
