"""The export job's input contract is computed in the app, without TensorFlow, from the project's
dataset and the run's plan: a table's with the first validation row, a sample's as arrays."""

from __future__ import annotations

import csv
from pathlib import Path

from layerloom.app.workbench.exporting import input_contract
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import open_source, sample_for_template
from layerloom.nodes.registry import default_registry
from layerloom.nodes.templates import load_template


def _plan(features: int, classes: int):
    registry = default_registry()
    graph = load_template("mlp_classifier", registry)
    for node in graph.nodes():
        if node.type_id == "keras.Input":
            node.params["shape"] = [features]
        elif node.params.get("units") == 3:
            node.params["units"] = classes
    return build_plan(graph, registry, "model")


def test_a_table_contract_comes_with_the_first_validation_row(tmp_path: Path) -> None:
    path = tmp_path / "données.csv"
    rows = [
        {"a": str(i), "couleur": ["rouge", "vert"][i % 2], "y": "ab"[i % 3 % 2]} for i in range(20)
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["a", "couleur", "y"])
        writer.writeheader()
        writer.writerows(rows)
    spec = {"kind": "csv", "path": str(path), "target": "y"}
    contract, row = input_contract(_plan(3, 2), spec, tmp_path)
    assert contract is not None and contract.kind == "table" and contract.target == "y"
    first = int(open_source(spec).split_indices()["validation"][0])
    assert row == {"a": rows[first]["a"], "couleur": rows[first]["couleur"]}


def test_a_sample_states_its_arrays_and_no_data_states_nothing(tmp_path: Path) -> None:
    plan = _plan(20, 3)
    contract, row = input_contract(plan, sample_for_template("mlp_classifier"), tmp_path)
    assert contract is not None and contract.kind == "array" and row is None
    assert [(i.name, i.shape) for i in contract.inputs] == [("features", [20])]
    assert input_contract(plan, None, tmp_path) == (None, None)
    # data that does not fit the plan: the export states the plan's arrays instead
    assert input_contract(_plan(7, 3), sample_for_template("mlp_classifier"), tmp_path) == (
        None,
        None,
    )
