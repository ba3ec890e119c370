"""Fitting a graph to data (nodes.adapt, nodes.datasets.facts): the task chosen from the target
and why, the changes listed one line each, and an adapted graph that validates, compiles and
trains. Small data generated in tmp_path; images are hand-written PNGs (no image library)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from layerloom.nodes.adapt import adapt, preprocessing_after, scale_warnings
from layerloom.nodes.analysis import Analysis
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import DatasetError, open_source
from layerloom.nodes.datasets.facts import choose_task, read_facts
from layerloom.nodes.datasets.fit import target_from_values
from layerloom.nodes.datasets.image_sizes import image_size
from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.templates import load_template
from tests.nodes.datasets.conftest import write_csv


def png(width: int, height: int, colour: bool = True, seed: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    channels = 3 if colour else 1
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width * channels), dtype=np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if colour else 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def image_folder(root: Path, sizes: list[tuple[int, int]], colour: bool = True) -> Path:
    for label in ("chat", "chien"):
        (root / label).mkdir(parents=True)
        for i in range(6):
            width, height = sizes[i % len(sizes)]
            (root / label / f"{i}.png").write_bytes(png(width, height, colour, seed=i))
    return root


@pytest.fixture
def text_csv(tmp_path: Path) -> Path:
    """Text labels, a categorical column, and two numbers 4,000,000x apart in scale."""
    rng = np.random.default_rng(0)
    rows = [
        [f"{rng.normal() * 0.001:.6f}", f"{rng.normal() * 4000:.1f}", "rgb"[i % 3], "ab"[i % 2]]
        for i in range(60)
    ]
    return write_csv(tmp_path / "text.csv", ["tiny", "huge", "colour", "espèce"], rows)


@pytest.fixture
def float_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    rows = [[*rng.normal(size=3).round(3), f"{rng.normal():.4f}"] for _ in range(60)]
    return write_csv(tmp_path / "float.csv", ["a", "b", "c", "y"], rows)


@pytest.fixture
def many_int_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(2)
    rows = [[*rng.normal(size=2).round(3), int(rng.integers(100, 900))] for _ in range(200)]
    return write_csv(tmp_path / "prices.csv", ["a", "b", "price"], rows)


def spec_csv(path: Path, target: str, **more) -> dict:
    return {"kind": "csv", "path": str(path), "target": target, **more}


def valid(graph: Graph, registry) -> bool:
    analysis = Analysis(graph, registry)
    try:
        return analysis.problems() == []
    finally:
        analysis.close()


# --- the task -----------------------------------------------------------------------------------


def test_the_task_is_chosen_from_the_target_and_says_how_to_override_it() -> None:
    text = choose_task(target_from_values(np.array(["a", "b", "a"])), 3)
    assert text.line() == "task: classification: the target holds text labels (a, b)"
    floats = choose_task(target_from_values(np.array([0.5, 1.25, 2.0])), 3)
    assert floats.task == "regression" and "fractional" in floats.reason
    few = choose_task(target_from_values(np.arange(90) % 3), 90)
    assert few.task == "classification"
    assert few.line().endswith("; override with --task regression")
    many = choose_task(target_from_values(np.arange(200) % 50), 200)
    assert many.task == "regression"
    assert "50 different integers in 200 rows" in many.line()
    assert many.line().endswith("; override with --task classification")
    # 15 integers: classes in 1000 rows (5 % each on average), values in 100 rows.
    assert choose_task(target_from_values(np.arange(1000) % 15), 1000).task == "classification"
    assert choose_task(target_from_values(np.arange(100) % 15), 100).task == "regression"
    assert choose_task(target_from_values(np.arange(100) % 15), 100, "classification").task == (
        "classification"
    )


# --- CSV ----------------------------------------------------------------------------------------


def test_a_text_label_csv_fits_the_mlp_and_the_changes_are_listed(registry, text_csv) -> None:
    graph = load_template("mlp_classifier", registry)
    fitted = adapt(graph, registry, spec_csv(text_csv, "espèce"))
    assert fitted.task_line == "task: classification: the target holds text labels (a, b)"
    assert fitted.lines() == [
        "Input 'features': shape (20,) -> (5,); text.csv has 5 feature columns (after one-hot"
        " encoding 'colour' into 3)",
        "add Normalization after Input 'features' (features to mean 0, variance 1, adapted on"
        " the training split)",
        "output 'classes': units 3 -> 2 (2 classes: a, b)",
        "training loss: auto -> sparse_categorical_crossentropy (for classification)",
        "training metrics: auto -> accuracy (for classification)",
    ]
    assert fitted.needed and fitted.spec["task"] == "classification"
    assert fitted.settings["loss"] == "sparse_categorical_crossentropy"
    assert build_plan(graph, registry).inputs[0].shape == [20]  # the graph given is untouched

    fitted.edit.apply(graph)
    assert valid(graph, registry)
    plan = build_plan(graph, registry)
    assert open_source(spec_csv(text_csv, "espèce")).check(plan).num_classes == 2
    first = graph.node(graph.successors(graph.by_name("features").id)[0])
    assert first.type_id == "keras.layers.Normalization"
    # Applied once more it finds nothing but settings left to make concrete.
    again = adapt(graph, registry, spec_csv(text_csv, "espèce"), fitted.settings)
    assert again.lines() == ["the graph already fits the data"] and not again.needed
    fitted.edit.revert(graph)
    assert build_plan(graph, registry).inputs[0].shape == [20]


def test_a_float_target_becomes_regression_with_one_linear_unit(registry, float_csv) -> None:
    graph = load_template("mlp_classifier", registry)
    fitted = adapt(graph, registry, spec_csv(float_csv, "y"))
    assert fitted.facts.task.task == "regression"
    assert "output 'classes': units 3 -> 1, activation softmax -> linear" in fitted.lines()[2]
    assert fitted.settings["loss"] == "mean_squared_error"
    assert fitted.settings["metrics"] == "mae"
    fitted.edit.apply(graph)
    assert open_source(spec_csv(float_csv, "y")).check(build_plan(graph, registry)).task == (
        "regression"
    )


def test_a_many_valued_integer_target_is_not_silently_classes(registry, many_int_csv) -> None:
    graph = load_template("mlp_classifier", registry)
    fitted = adapt(graph, registry, spec_csv(many_int_csv, "price"))
    assert fitted.facts.task.task == "regression"
    assert "override with --task classification" in fitted.task_line
    assert fitted.info.task == "regression" and fitted.info.num_classes is None
    forced = adapt(graph, registry, spec_csv(many_int_csv, "price", task="classification"))
    assert forced.task_line == "task: classification: as asked"
    assert forced.info.num_classes == len(set(open_source(spec_csv(many_int_csv, "price"))
                                              .column("price")))  # fmt: skip


def test_a_user_loss_that_suits_the_task_is_kept(registry, float_csv) -> None:
    graph = load_template("mlp_regressor", registry)
    fitted = adapt(graph, registry, spec_csv(float_csv, "y"), {"loss": "huber", "metrics": "mae"})
    assert fitted.settings["loss"] == "huber" and fitted.settings["metrics"] == "mae"
    assert fitted.lines() == [
        "Input 'features': shape (6,) -> (3,); float.csv has 3 feature columns"
    ]


def test_the_scale_warning_names_the_columns_until_a_normalization_is_there(
    registry, text_csv
) -> None:
    graph = load_template("mlp_classifier", registry)
    graph.set_params(graph.by_name("features").id, {"shape": [5], "dtype": "float32"})
    source = open_source(spec_csv(text_csv, "espèce"))
    (line,) = scale_warnings(graph, registry, source)
    assert line.startswith("warning: the features differ in scale by ")
    assert "'tiny' up to " in line and "'huge' up to " in line
    assert "no Normalization sits after Input 'features'" in line
    assert "colour" not in line  # one-hot columns are not compared
    adapt(graph, registry, spec_csv(text_csv, "espèce")).edit.apply(graph)
    assert scale_warnings(graph, registry, source) == []


def test_data_that_no_graph_change_fits_is_refused_in_one_line(registry, tmp_path) -> None:
    (tmp_path / "one.csv").write_text("a,label\n1,x\n2,x\n3,x\n", encoding="utf-8")
    graph = load_template("mlp_classifier", registry)
    with pytest.raises(DatasetError, match="the target has 1 class"):
        adapt(graph, registry, spec_csv(tmp_path / "one.csv", "label"))
    with pytest.raises(DatasetError, match="no column 'nope'"):
        adapt(graph, registry, spec_csv(tmp_path / "one.csv", "nope"))


# --- images -------------------------------------------------------------------------------------


def test_image_headers_give_height_width_and_channels(tmp_path) -> None:
    (tmp_path / "c.png").write_bytes(png(12, 10))
    (tmp_path / "g.png").write_bytes(png(7, 5, colour=False))
    sof = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 30, 40) + b"\x03" + b"\x00" * 9
    (tmp_path / "p.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x04\x00\x00" + sof + b"\xff\xd9")
    (tmp_path / "a.gif").write_bytes(b"GIF89a" + struct.pack("<HH", 9, 4) + b"\x00" * 8 + b";")
    bmp = b"BM" + b"\x00" * 16 + struct.pack("<ii", 6, -3) + b"\x01\x00" + b"\x18\x00"
    (tmp_path / "b.bmp").write_bytes(bmp + b"\x00" * 40)
    (tmp_path / "x.png").write_bytes(b"not an image")
    sizes = {p.name: image_size(p) for p in sorted(tmp_path.iterdir())}
    assert sizes == {
        "a.gif": (4, 9, 3),
        "b.bmp": (3, 6, 3),
        "c.png": (10, 12, 3),
        "g.png": (5, 7, 1),
        "p.jpg": (30, 40, 3),
        "x.png": None,
    }


def test_images_of_one_size_set_the_input_and_varied_sizes_keep_it(registry, tmp_path) -> None:
    same = image_folder(tmp_path / "same", [(12, 10)])
    graph = load_template("small_cnn", registry)
    fitted = adapt(graph, registry, {"kind": "images", "path": str(same)})
    assert fitted.task_line.startswith("task: classification: same is an image folder")
    assert fitted.lines()[:2] == [
        "Input 'image': shape (28, 28, 1) -> (10, 12, 3); the images are 10x12, colour",
        "output 'classes': units 10 -> 2 (2 classes: chat, chien)",
    ]  # the template has its Rescaling already
    fitted.edit.apply(graph)
    assert valid(graph, registry)

    varied = image_folder(tmp_path / "varied", [(12, 10), (20, 16)], colour=False)
    graph = load_template("residual_cnn", registry)
    fitted = adapt(graph, registry, {"kind": "images", "path": str(varied)})
    assert fitted.lines()[0] == (
        "Input 'image': shape (32, 32, 3) -> (32, 32, 1); the images are grey, 10x12 to 16x20:"
        " resized to the Input's 32x32"
    )


def test_an_image_input_without_scaling_gets_a_rescaling_right_after_it(registry, tmp_path) -> None:
    folder = image_folder(tmp_path / "photos", [(8, 8)])
    graph = Graph()
    nodes = [
        Node(new_id(), "keras.Input", "pixels", {"shape": [8, 8, 3]}),
        Node(new_id(), "keras.layers.Flatten", "flat", {}),
        Node(new_id(), "keras.layers.Dense", "out", {"units": 2, "activation": "softmax"}),
    ]
    for node in nodes:
        graph.add_node(Node(node.id, node.type_id, node.name, registry[node.type_id].normalize(
            node.params)))  # fmt: skip
    graph.connect(Edge(nodes[0].id, nodes[1].id, "input"))
    graph.connect(Edge(nodes[1].id, nodes[2].id, "input"))
    fitted = adapt(graph, registry, {"kind": "images", "path": str(folder)})
    assert fitted.lines()[0] == (
        "add Rescaling after Input 'pixels' (pixels 0..255 to 0..1, inside the model)"
    )
    fitted.edit.apply(graph)
    (rescale,) = preprocessing_after(graph, registry, nodes[0].id)
    assert rescale.name == "rescale" and rescale.params["scale"] == pytest.approx(1 / 255)
    assert graph.successors(rescale.id) == [nodes[1].id]
    assert valid(graph, registry)


def test_images_too_small_for_the_graph_are_resized_to_its_size(registry, tmp_path) -> None:
    folder = image_folder(tmp_path / "tiny", [(8, 8)])
    graph = load_template("small_cnn", registry)
    fitted = adapt(graph, registry, {"kind": "images", "path": str(folder)})
    assert fitted.lines()[0] == (
        "Input 'image': shape (28, 28, 1) -> (28, 28, 3); the images are 8x8, colour, too small"
        " for this graph: resized to the Input's 28x28"
    )


def test_a_regression_on_an_image_folder_is_refused(registry, tmp_path) -> None:
    folder = image_folder(tmp_path / "photos", [(12, 10)])
    graph = load_template("small_cnn", registry)
    with pytest.raises(DatasetError, match="an image folder is a classification dataset"):
        adapt(graph, registry, {"kind": "images", "path": str(folder), "task": "regression"})


# --- npz ----------------------------------------------------------------------------------------


def test_an_npz_sets_the_example_shape_and_normalises_it(registry, tmp_path) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / "arrays.npz"
    np.savez(path, x=rng.normal(size=(40, 7)).astype(np.float32), y=np.arange(40) % 4)
    graph = load_template("mlp_classifier", registry)
    fitted = adapt(graph, registry, {"kind": "npz", "path": str(path)})
    assert fitted.lines()[:3] == [
        "Input 'features': shape (20,) -> (7,); arrays.npz: array 'x' has examples of shape (7,)",
        "add Normalization after Input 'features' (features to mean 0, variance 1, adapted on"
        " the training split)",
        "output 'classes': units 3 -> 4 (4 classes: 0, 1, 2, 3)",
    ]
    facts = read_facts(open_source({"kind": "npz", "path": str(path)}))
    assert [(i.shape, i.role) for i in facts.inputs] == [((7,), "numeric")]
