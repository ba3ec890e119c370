"""Health findings on hand-made figures: each rule fires on its case and stays quiet on a healthy
series (``nodes.health`` is plain Python, so no model is needed to pin its words)."""

from __future__ import annotations

from typing import Any

from layerloom.nodes.health import FIGURES, findings, nonfinite_sentence


def record(step: int, epoch: int, **figures: Any) -> dict[str, Any]:
    return {"step": step, "epoch": epoch, **dict.fromkeys(FIGURES), **figures}


def healthy_series() -> dict[str, list[dict[str, Any]]]:
    series = {}
    for depth, node in enumerate(("dense", "dense_1", "head")):
        series[node] = [
            record(
                step,
                1 + step // 100,
                grad_norm=0.5 / (depth + 1),
                weight_norm=5.0,
                update_ratio=None if step == 1 else 2e-3,
                activation_mean=0.4,
                activation_std=0.8,
                dead_fraction=0.05 if node != "head" else None,
            )
            for step in (1, 100, 200, 300)
        ]
    return series


def test_a_healthy_series_reports_nothing() -> None:
    assert findings(healthy_series(), outputs=["head"]) == []


def test_dead_units_are_reported_with_the_epoch_they_died_in() -> None:
    series = healthy_series()
    for item, dead in zip(series["dense_1"], (0.1, 0.6, 0.94, 0.94), strict=True):
        item["dead_fraction"] = dead
    (found,) = findings(series, outputs=["head"])
    assert found.node == "dense_1" and found.kind == "dead"
    assert found.message == (
        "dense_1: 94 % of units dead since epoch 2 — lower the learning rate or use LeakyReLU"
    )


def test_vanishing_gradients_compare_the_first_node_with_the_head() -> None:
    series = healthy_series()
    for item in series["dense"]:
        item["grad_norm"] = 1e-7
    (found,) = findings(series, outputs=["head"])
    assert (found.node, found.kind) == ("dense", "vanishing")
    assert "gradient at dense is 6e-07 of the head's (head): vanishing" in found.message
    assert "BatchNormalization or residual connections" in found.message


def test_exploding_gradients() -> None:
    series = healthy_series()
    series["dense"][-1]["grad_norm"] = 5e5
    kinds = {(f.node, f.kind) for f in findings(series, outputs=["head"])}
    assert ("dense", "exploding") in kinds


def test_saturation_is_reported_except_on_an_output_node() -> None:
    series = healthy_series()
    series["dense_1"][-1]["saturated_fraction"] = 0.8
    series["head"][-1]["saturated_fraction"] = 1.0  # a confident sigmoid head
    (found,) = findings(series, outputs=["head"])
    assert (found.node, found.kind) == ("dense_1", "saturated")
    assert found.message.startswith("dense_1: 80 % of units saturated")


def test_update_ratios_far_from_1e_3_are_reported_once_per_node() -> None:
    series = healthy_series()
    for item in series["dense"][1:]:
        item["update_ratio"] = 1e-8
    for item in series["dense_1"][1:]:
        item["update_ratio"] = 0.5
    found = {f.node: f.message for f in findings(series, outputs=["head"])}
    assert "raise the learning rate" in found["dense"]
    assert "lower the learning rate" in found["dense_1"]


def test_a_dead_node_is_not_reported_again_for_its_tiny_updates() -> None:
    series = healthy_series()
    for item in series["dense_1"]:
        item["dead_fraction"], item["update_ratio"] = 1.0, 0.0
    assert [f.kind for f in findings(series, outputs=["head"])] == ["dead"]


def test_the_nonfinite_sentence() -> None:
    found = {"node": "exp", "where": "output", "step": 7, "rows": [3, 12]}
    assert nonfinite_sentence(found) == (
        "first non-finite value: the output of exp at step 7 (rows 3, 12 of the batch)"
    )
