"""CSV/TSV sources: reading, encoding, splits, pipelines, fingerprints and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.nodes.datasets import DatasetError, make_pipelines, open_source
from tests.nodes.datasets.conftest import write_csv
from tests.nodes.datasets.plans import dense_plan, template_plan


def csv_spec(path, **extra):
    return {"kind": "csv", "path": str(path), "target": "species", **extra}


def test_text_target_becomes_classes_and_text_feature_is_one_hot(iris_like) -> None:
    source = open_source(csv_spec(iris_like))
    info = source.check(dense_plan(("features", [5])))  # a, b, c + colour one-hot (2)
    assert info.task == "classification" and info.loss_hint == "sparse_categorical_crossentropy"
    assert info.class_names == ["setosa", "versicolor", "virginica"]
    assert (info.num_train, info.num_validation, info.num_test) == (42, 12, 6)
    preview = source.preview(rows=2)
    assert "colour: categorical, 2 values (one-hot)" in preview.columns
    assert "species: target (3 values)" in preview.columns
    assert preview.classes == {"setosa": 20, "versicolor": 20, "virginica": 20}
    assert len(preview.rows) == 2 and "first rows:" in preview.lines()


def test_pipeline_batches_match_the_mlp_template(tmp_path, keras_session) -> None:
    rng = np.random.default_rng(1)
    header = [f"f{i}" for i in range(20)] + ["label"]
    rows = [[*rng.normal(size=20).round(3), f"class_{i % 3}"] for i in range(50)]
    path = write_csv(tmp_path / "wide.csv", header, rows)
    source = open_source({"kind": "csv", "path": str(path), "target": "label"})
    pipes = make_pipelines(source, template_plan("mlp_classifier"), batch_size=8, seed=3)
    x, y = next(iter(pipes.train))
    assert x.shape == (8, 20) and x.dtype.name == "float32"
    assert y.shape == (8,) and y.dtype.name == "int32"
    assert pipes.num_train + pipes.num_validation + pipes.num_test == 50
    assert sum(int(b[0].shape[0]) for b in pipes.train) == pipes.num_train
    assert pipes.input_names == ["features"] and pipes.steps_per_epoch == -(-pipes.num_train // 8)
    model = keras_session.Sequential(
        [keras_session.Input((20,)), keras_session.layers.Dense(3, activation="softmax")]
    )
    model.compile("adam", pipes.info.loss_hint)
    model.fit(pipes.train, validation_data=pipes.validation, epochs=1, shuffle=False, verbose=0)


def test_train_is_reshuffled_each_epoch_and_splits_are_deterministic(iris_like, keras_session):
    plan = dense_plan(("features", [5]))
    first = make_pipelines(open_source(csv_spec(iris_like)), plan, batch_size=64, seed=7)
    again = make_pipelines(open_source(csv_spec(iris_like)), plan, batch_size=64, seed=7)
    epoch_1, epoch_2 = (next(iter(first.train))[0].numpy() for _ in range(2))
    assert not np.array_equal(epoch_1, epoch_2)  # reshuffled
    assert np.array_equal(np.sort(epoch_1, 0), np.sort(epoch_2, 0))  # same examples
    assert np.array_equal(epoch_1, next(iter(again.train))[0].numpy())  # same seed, same order
    val = next(iter(first.validation))[0].numpy()
    assert np.array_equal(val, next(iter(again.validation))[0].numpy())
    other = open_source(csv_spec(iris_like, split={"seed": 8})).split_indices()
    assert not np.array_equal(other["validation"], first_split(iris_like)["validation"])


def first_split(path):
    return open_source(csv_spec(path)).split_indices()


def test_split_column_and_tsv_by_extension(tmp_path) -> None:
    rows = [[i, i * 2, i % 2, ["train", "train", "validation", "test"][i % 4]] for i in range(12)]
    path = write_csv(tmp_path / "data.tsv", ["x1", "x2", "y", "part"], rows, delimiter="\t")
    source = open_source(
        {"kind": "csv", "path": str(path), "target": "y", "split": {"column": "part"}}
    )
    info = source.check(dense_plan(("features", [2]), units=2))  # 'part' is not a feature
    assert (info.num_train, info.num_validation, info.num_test) == (6, 3, 3)
    assert info.class_names == ["0", "1"]


def test_numeric_target_into_one_linear_unit_is_regression(tmp_path) -> None:
    rows = [[i, i * 0.5 + 1] for i in range(20)]
    path = write_csv(tmp_path / "prices.csv", ["size", "price"], rows)
    source = open_source({"kind": "csv", "path": str(path), "target": "price"})
    info = source.check(dense_plan(("features", [1]), units=1, activation="linear"))
    assert info.task == "regression" and info.target_shape == [1]
    assert info.loss_hint == "mean_squared_error"


def test_fingerprint_follows_the_bytes(iris_like) -> None:
    before = open_source(csv_spec(iris_like)).fingerprint()
    assert before == open_source(csv_spec(iris_like, features=["a"])).fingerprint()
    assert len(before) == 64
    iris_like.write_text(iris_like.read_text().replace("setosa", "setosa2", 1))
    assert open_source(csv_spec(iris_like)).fingerprint() != before


@pytest.mark.parametrize(
    ("header", "rows", "spec", "plan", "message"),
    [
        (
            ["age", "label"],
            [[30, 0]] * 15 + [["abc", 1]],
            {"target": "label"},
            dense_plan(("features", [1]), units=2),
            "data.csv, row 17, column 'age': 'abc' is not a number",
        ),
        (
            ["age", "label"],
            [[30, 0], ["", 1], [31, 1]],
            {"target": "label"},
            dense_plan(("features", [1]), units=2),
            "data.csv, row 3, column 'age' is empty",
        ),
        (
            ["age", "label"],
            [[30, 0]],
            {"target": "lable"},
            dense_plan(("features", [1])),
            "data.csv has no column 'lable'; columns: age, label",
        ),
        (
            ["age", "label"],
            [[30, 0]],
            {"target": "label", "features": ["height"]},
            dense_plan(("features", [1])),
            "data.csv has no column 'height'; columns: age, label",
        ),
        (
            [f"f{i}" for i in range(19)] + ["label"],
            [list(range(20))] * 5,
            {"target": "label"},
            dense_plan(("features", [20])),
            "data.csv has 19 feature columns but Input 'features' expects (20,)",
        ),
        (
            ["x", "label"],
            [[1, "cat"], [2, "dog"], [3, "eel"]],
            {"target": "label"},
            dense_plan(("features", [1]), units=10),
            "data.csv has 3 classes (cat, dog, eel) but output 'out' has 10 units",
        ),
        (
            ["x", "label", "part"],
            [[1, 0, "train"], [2, 1, "tain"]],
            {"target": "label", "split": {"column": "part"}},
            dense_plan(("features", [1]), units=2),
            "data.csv, row 3, column 'part': 'tain' is not train, validation or test",
        ),
    ],
)
def test_bad_data_names_file_row_and_column(tmp_path, header, rows, spec, plan, message) -> None:
    path = write_csv(tmp_path / "data.csv", header, rows)
    source = open_source({"kind": "csv", "path": str(path), **spec})
    with pytest.raises(DatasetError) as caught:
        source.check(plan)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_ragged_row_and_empty_file(tmp_path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n1,2,0\n1,2\n")
    with pytest.raises(DatasetError, match=r"data.csv, row 3: 2 values but the header has 3"):
        open_source({"kind": "csv", "path": str(path), "target": "label"}).count()
    path.write_text("a,b,label\n")
    with pytest.raises(DatasetError, match="data.csv has a header but no rows"):
        open_source({"kind": "csv", "path": str(path), "target": "label"}).count()
    with pytest.raises(DatasetError, match="does not exist"):
        open_source({"kind": "csv", "path": str(tmp_path / "nope.csv"), "target": "y"}).count()
