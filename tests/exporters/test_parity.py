"""The parity report: errors, top-1 agreement and the verdict against a tolerance (plain NumPy)."""

from __future__ import annotations

import numpy as np

from layerloom.exporters.base import Tolerance
from layerloom.exporters.parity import compare, summary, top1

FLOAT = Tolerance(max_abs_error=1e-4)
QUANTISED = Tolerance(min_top1_agreement=0.9)


def probabilities(rows: int, classes: int = 4, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).standard_normal((rows, classes))
    return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def test_identical_outputs_pass_with_zero_error() -> None:
    ref = probabilities(8)
    report = compare([ref], [ref.copy()], FLOAT, classification=True)
    assert report["passed"] and report["max_abs_error"] == 0.0
    assert report["top1_agreement"] == 1.0 and report["samples"] == 8


def test_an_error_over_the_tolerance_fails_and_says_by_how_much() -> None:
    ref = probabilities(8)
    got = ref.copy()
    got[3, 1] += 2e-3
    report = compare([ref], [got], FLOAT, classification=True, runtime="LiteRT")
    assert not report["passed"]
    assert abs(report["max_abs_error"] - 2e-3) < 1e-9
    assert "max abs error" in report["reason"] and "0.0001" in report["reason"]
    assert "FAILED" in summary(report) and "LiteRT" in summary(report)


def test_agreement_counts_samples_whose_top_class_changed() -> None:
    ref = probabilities(10)
    got = ref.copy()
    flipped = 0
    for row in range(3):  # swap the top class of three samples with another one
        best = int(np.argmax(ref[row]))
        other = (best + 1) % 4
        got[row, [best, other]] = got[row, [other, best]]
        flipped += 1
    report = compare([ref], [got], QUANTISED, classification=True)
    assert report["top1_agreement"] == 1 - flipped / 10
    assert not report["passed"] and "top-1 agreement 70.0%" in report["reason"]
    assert compare([ref], [got], Tolerance(min_top1_agreement=0.7), classification=True)["passed"]


def test_one_sigmoid_unit_is_classified_at_one_half() -> None:
    assert top1(np.array([[0.2], [0.7], [0.5]])).tolist() == [0, 1, 0]


def test_every_output_of_a_multi_output_model_is_compared() -> None:
    a, b = probabilities(4), np.arange(4.0).reshape(4, 1)
    got_b = b + np.array([[0.0], [0.0], [0.5], [0.0]])
    report = compare([a, b], [a, got_b], FLOAT, classification=True, output_names=["kind", "value"])
    assert [o["name"] for o in report["outputs"]] == ["kind", "value"]
    assert report["outputs"][0]["max_abs_error"] == 0.0
    assert report["outputs"][1]["max_abs_error"] == 0.5 and not report["passed"]


def test_missing_outputs_wrong_shapes_and_nan_fail_with_a_reason() -> None:
    ref = probabilities(4)
    assert "outputs" in compare([ref], [], FLOAT, classification=True)["reason"]
    assert "shape" in compare([ref], [ref[:2]], FLOAT, classification=True)["reason"]
    bad = ref.copy()
    bad[0, 0] = np.nan
    report = compare([ref], [bad], FLOAT, classification=True)
    assert not report["passed"] and "NaN" in report["reason"]
    assert summary(report).startswith("parity FAILED")


def test_quantised_outputs_after_the_class_scores_are_held_to_their_own_bound() -> None:
    scores, values = probabilities(6), np.linspace(0, 1, 6).reshape(6, 1)
    tolerance = Tolerance(min_top1_agreement=0.9, other_outputs_max_abs_error=0.1)
    close = compare([scores, values], [scores, values + 0.05], tolerance, classification=True,
                    output_names=["kind", "value"])  # fmt: skip
    assert close["passed"]
    far = compare([scores, values], [scores, values + 0.7], tolerance, classification=True,
                  output_names=["kind", "value"])  # fmt: skip
    assert not far["passed"] and "output value: max abs error 0.7 > 0.1" in far["reason"]
