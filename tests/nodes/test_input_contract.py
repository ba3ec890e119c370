"""The input contract says exactly how raw values become the model's inputs, as training did."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import DatasetError, open_source
from layerloom.nodes.datasets.contract import InputContract
from layerloom.nodes.registry import default_registry
from layerloom.nodes.templates import load_template

ROWS = [
    ("1.5", "rouge", "100", "oui"),
    ("2", "bleu", "2e3", "non"),
    ("-3", "vert", "0.001", "oui"),
    ("4", "rouge", "400", "non"),
    ("5", "bleu", "5", "oui"),
    ("6", "rouge", "6", "non"),
    ("7", "vert", "7", "oui"),
    ("8", "bleu", "8", "non"),
    ("9", "rouge", "9", "oui"),
    ("10", "bleu", "10", "non"),
]


def _csv_project(tmp_path):
    path = tmp_path / "données.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "couleur", "b", "étiquette"])
        writer.writerows(ROWS)
    registry = default_registry()
    graph = load_template("mlp_classifier", registry)
    for node in graph.nodes():
        if node.type_id == "keras.Input":
            node.params["shape"] = [5]
        elif node.params.get("units") == 3:
            node.params["units"] = 2
    plan = build_plan(graph, registry, "model")
    source = open_source({"kind": "csv", "path": str(path), "target": "étiquette"})
    return path, plan, source


def test_table_rows_encode_exactly_as_training_encoded_the_file(tmp_path) -> None:
    path, plan, source = _csv_project(tmp_path)
    contract = source.input_contract(plan, source.check(plan))
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    encoded = contract.encode_rows(rows)
    trained = source.inputs_for(plan)
    assert list(encoded) == list(trained) == ["features"]
    np.testing.assert_array_equal(encoded["features"], trained["features"].astype(np.float32))
    assert contract.feature_columns() == ["a", "couleur", "b"]
    assert contract.class_names == ["non", "oui"]


def test_the_contract_round_trips_through_json_and_reads_as_words(tmp_path) -> None:
    _, plan, source = _csv_project(tmp_path)
    contract = source.input_contract(plan, source.check(plan))
    again = InputContract.from_json(json.loads(json.dumps(contract.to_json())))
    assert again == contract
    words = "\n".join(contract.describe())
    assert "[1..3] `couleur`: one-hot" in words and "`bleu`, `rouge`, `vert`" in words
    assert "`étiquette` is not an input" in words


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"a": "1", "couleur": "violet", "b": "2"}, "row 1, column 'couleur': 'violet' was not"),
        ({"a": "", "couleur": "bleu", "b": "2"}, "row 1, column 'a' is empty"),
        ({"a": "x", "couleur": "bleu", "b": "2"}, "row 1, column 'a': 'x' is not a number"),
        ({"a": "1", "couleur": "bleu"}, "row 1 has no column 'b'"),
    ],
)
def test_rows_the_model_cannot_take_are_refused_by_row_and_column(tmp_path, row, message) -> None:
    _, plan, source = _csv_project(tmp_path)
    contract = source.input_contract(plan, source.check(plan))
    with pytest.raises(DatasetError, match=message):
        contract.encode_rows([row])


@pytest.mark.keras
def test_image_folders_state_size_colour_and_resize_method(tmp_path, keras_session) -> None:
    import tensorflow as tf

    from tests.nodes.datasets.test_images import write_pngs

    write_pngs(tf, tmp_path, {"chat": 2, "chien": 2}, size=(9, 7), channels=1)
    registry = default_registry()
    graph = load_template("small_cnn", registry)
    for node in graph.nodes():
        if node.params.get("units") == 10:
            node.params["units"] = 2
    plan = build_plan(graph, registry, "model")
    source = open_source({"kind": "images", "path": str(tmp_path)})
    contract = source.input_contract(plan, source.check(plan))
    assert contract.kind == "image" and contract.class_names == ["chat", "chien"]
    assert (contract.image.height, contract.image.width, contract.image.channels) == (28, 28, 1)
    words = "\n".join(contract.describe())
    assert "grayscale, 28x28" in words and "tf.image.resize(image, (height, width))" in words
