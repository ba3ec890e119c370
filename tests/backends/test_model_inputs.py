"""Raw inputs become model inputs exactly as training made them: images decoded and resized by
the pipeline's own function, CSV rows encoded over the training vocabulary, .npz arrays as they
are; whatever cannot be an input is refused in one line naming the file, row or array."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.backends.keras_predict import prediction_rows, probabilities
from layerloom.backends.model_inputs import InputError, collect, read
from layerloom.nodes.datasets.contract import Column, ImageRule, InputContract, ModelInput
from layerloom.nodes.errors import UsageError
from tests.app.predict_projects import coloured, write_csv, write_png

IMAGES = InputContract(
    kind="image",
    inputs=[ModelInput("image", [16, 16, 3], "float32")],
    task="classification",
    class_names=["bleu", "rouge"],
    output="classes",
    image=ImageRule(16, 16, 3),
)
TABLE = InputContract(
    kind="table",
    inputs=[ModelInput("features", [5], "float32")],
    task="classification",
    class_names=["non", "oui"],
    output="classes",
    columns={
        "features": [
            Column("a", "numeric"),
            Column("couleur", "categorical", ["bleu", "rouge", "vert"]),
            Column("b", "numeric"),
        ]
    },
    target="étiquette",
)
ARRAYS = InputContract(
    kind="array",
    inputs=[ModelInput("x", [3], "float32")],
    task="regression",
    output="value",
)


@pytest.fixture
def pictures(tmp_path):
    rng = np.random.default_rng(1)
    made = {}
    for name, size in (("été/été_1.png", (16, 16)), ("été/plus/nuit.png", (30, 21))):
        pixels = coloured(rng, "rouge", size)
        write_png(tmp_path / name, pixels)
        made[name] = pixels
    return tmp_path, made


@pytest.mark.keras
def test_images_are_decoded_and_resized_as_the_contract_says(pictures, keras_session) -> None:
    import tensorflow as tf

    root, made = pictures
    sources = collect([root / "été"], IMAGES)
    assert [s.name for s in sources] == [
        f"{root / 'été'}/été_1.png",
        f"{root / 'été'}/plus/nuit.png",
    ]
    inputs = read(sources, IMAGES)
    assert (
        inputs.arrays["image"].shape == (2, 16, 16, 3)
        and inputs.arrays["image"].dtype == np.float32
    )
    # The file already at the Input's size is its pixels as they are (0..255, no scaling).
    np.testing.assert_array_equal(inputs.arrays["image"][0], made["été/été_1.png"])
    # Another size: TensorFlow's bilinear resize, half-pixel centres, no antialiasing.
    expected = tf.image.resize(made["été/plus/nuit.png"].astype(np.uint8), (16, 16)).numpy()
    np.testing.assert_allclose(inputs.arrays["image"][1], expected, atol=1e-5)


@pytest.mark.keras
def test_a_grayscale_model_converts_colour_files(pictures, keras_session) -> None:
    root, _ = pictures
    grey = InputContract(
        kind="image",
        inputs=[ModelInput("image", [8, 8, 1], "float32")],
        task="classification",
        image=ImageRule(8, 8, 1),
    )
    inputs = read(collect([root / "été" / "été_1.png"], grey), grey)
    assert inputs.arrays["image"].shape == (1, 8, 8, 1)


@pytest.mark.keras
def test_a_broken_image_is_named(tmp_path, keras_session) -> None:
    bad = tmp_path / "cassé.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(InputError, match="cassé.png is not a readable image"):
        read(collect([bad], IMAGES), IMAGES)
    empty = tmp_path / "vide.jpg"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="vide.jpg is empty"):
        read(collect([empty], IMAGES), IMAGES)


def test_csv_rows_are_encoded_over_the_training_vocabulary_target_ignored(tmp_path) -> None:
    path = write_csv(
        tmp_path / "nouvelles.csv",
        ["étiquette", "b", "couleur", "a", "extra"],
        [["oui", "2", "vert", "1.5", "z"], ["", "-1", "bleu", "0", "z"]],
    )
    inputs = read(collect([path], TABLE), TABLE)
    assert inputs.names == [f"{path}:2", f"{path}:3"]
    np.testing.assert_array_equal(inputs.arrays["features"], [[1.5, 0, 0, 1, 2], [0, 1, 0, 0, -1]])


def test_a_bad_row_is_named_by_its_line(tmp_path) -> None:
    path = write_csv(
        tmp_path / "lignes.csv",
        ["a", "couleur", "b"],
        [["1", "rouge", "2"], ["", "", ""], ["3", "violet", "4"]],
    )
    # Line 3 is blank (skipped): the unknown category is on line 4, the file's third row.
    with pytest.raises(InputError, match=r"lignes.csv, line 4, column 'couleur': 'violet' was not"):
        read(collect([path], TABLE), TABLE)
    missing = write_csv(tmp_path / "court.csv", ["a", "b"], [["1", "2"]])
    with pytest.raises(InputError, match=r"court.csv has no column 'couleur'"):
        read(collect([missing], TABLE), TABLE)


def test_npz_arrays_are_fed_as_they_are(tmp_path) -> None:
    np.savez(tmp_path / "x.npz", x=np.arange(6, dtype=np.float64).reshape(2, 3))
    inputs = read(collect([tmp_path / "x.npz"], ARRAYS), ARRAYS)
    assert inputs.names == [f"{tmp_path / 'x.npz'}[0]", f"{tmp_path / 'x.npz'}[1]"]
    assert inputs.arrays["x"].dtype == np.float32 and inputs.arrays["x"].tolist()[1] == [3, 4, 5]
    np.savez(tmp_path / "faux.npz", x=np.zeros((2, 4)))
    with pytest.raises(InputError, match=r"faux.npz: array for Input 'x' has shape \(2, 4\)"):
        read(collect([tmp_path / "faux.npz"], ARRAYS), ARRAYS)
    np.savez(tmp_path / "autre.npz", y=np.zeros((2, 3)))
    with pytest.raises(InputError, match="autre.npz holds y; it needs 'x'"):
        read(collect([tmp_path / "autre.npz"], ARRAYS), ARRAYS)


@pytest.mark.parametrize(
    ("make", "contract", "message"),
    [
        (lambda d: d / "absent.png", IMAGES, "absent.png does not exist"),
        (lambda d: _touch(d / "notes.txt"), IMAGES, "notes.txt: not an input Layerloom reads"),
        (lambda d: _touch(d / "t.csv"), IMAGES, "t.csv is a CSV file, but this model takes image"),
        (lambda d: _touch(d / "i.png"), TABLE, "i.png is an image, but this model takes CSV"),
        (lambda d: _folder(d / "vide"), IMAGES, "vide holds no images"),
        (lambda d: _folder(d / "dossier"), TABLE, "dossier is a folder"),
    ],
)
def test_what_cannot_be_an_input_is_refused_before_reading(
    tmp_path, make, contract, message
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        collect([make(tmp_path)], contract)
    assert isinstance(caught.value, UsageError)  # the CLI exits 2


def _touch(path):
    path.write_bytes(b"x")
    return path


def _folder(path):
    path.mkdir()
    (path / "lisez-moi.txt").write_text("pas une image")
    return path


def test_top_k_lists_classes_most_probable_first() -> None:
    outputs = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])
    rows = prediction_rows(["a", "b"], outputs, "distribution", ["x", "y", "z"], top=2)
    assert rows[0]["prediction"] == "y"
    assert [c["label"] for c in rows[0]["top"]] == ["y", "z"]
    assert [c["label"] for c in rows[1]["top"]] == ["x", "y"]  # a tie keeps class order
    assert len(prediction_rows(["a"], outputs[:1], "distribution", None, top=10)[0]["top"]) == 3


def test_logits_and_sigmoids_become_probabilities() -> None:
    logits = np.array([[2.0, 0.0, -1.0]])
    soft = probabilities(logits, "logits")
    np.testing.assert_allclose(soft, np.exp(logits) / np.exp(logits).sum(), rtol=1e-12)
    np.testing.assert_allclose(probabilities(np.array([[0.8]]), "sigmoid"), [[0.2, 0.8]])
    np.testing.assert_allclose(probabilities(np.array([[0.0]]), "sigmoid_logits"), [[0.5, 0.5]])
    rows = prediction_rows(["r"], np.array([[1.5], [2.0]])[:1], "values", None)
    assert rows == [{"input": "r", "value": 1.5}]
