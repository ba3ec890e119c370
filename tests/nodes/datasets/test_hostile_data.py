"""Hostile data, found when the dataset is set, each case one line naming the file and where
(issue 15, items 5 and 6): a broken image anywhere in a folder, a text ID column, a 100,000-column
header, NaN/inf in .npz arrays and numbers beyond float32 in a CSV. No TensorFlow."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from layerloom.nodes.datasets import DatasetError, open_source
from layerloom.nodes.datasets.image_headers import file_format
from tests.nodes.datasets.conftest import write_csv
from tests.nodes.datasets.plans import dense_plan


def png(width: int = 4, height: int = 4, text: int = 0) -> bytes:
    """A whole grey PNG, written by hand so these tests need no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + (chunk(b"tEXt", b"note\x00" + b"x" * text) if text else b"")
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        for i in range(30):
            (root / name / f"img_{i:03}.png").write_bytes(png())
    return root


def images_check(root: Path) -> None:
    plan = dense_plan(("image", [4, 4, 1]), units=2)
    open_source({"kind": "images", "path": str(root)}).check(plan)


def test_a_broken_image_far_down_the_folder_is_named_when_the_dataset_is_set(photos) -> None:
    images_check(photos)
    whole = (photos / "dog" / "img_027.png").read_bytes()
    (photos / "dog" / "img_027.png").write_bytes(whole[: len(whole) - 20])  # cut short
    with pytest.raises(DatasetError, match=r"^photos/dog/img_027.png is not a readable image"):
        images_check(photos)


def test_every_broken_image_is_named_by_path(photos) -> None:
    (photos / "cat" / "img_020.png").write_bytes(b"GIF89a not really")
    (photos / "dog" / "img_029.png").write_bytes(b"\xff\xd8\xff" + b"\x00" * 5000)  # no end
    with pytest.raises(DatasetError) as caught:
        images_check(photos)
    assert str(caught.value) == (
        "2 files are not readable images (PNG, JPEG, GIF or BMP):"
        " photos/cat/img_020.png, photos/dog/img_029.png"
    )


def test_headers_only_check_reads_big_files_by_their_ends(tmp_path) -> None:
    big = tmp_path / "big.png"
    data = png(text=5000)  # bigger than the two reads
    assert len(data) > 2048
    big.write_bytes(data)
    assert file_format(big) == "PNG"
    big.write_bytes(data[:-12] + b"\x00" * 12)  # IEND overwritten
    assert file_format(big) is None
    bmp = tmp_path / "big.bmp"
    bmp.write_bytes(b"BM" + b"\x00" * 8 + struct.pack("<I", 54) + b"\x00" * 5000)
    assert file_format(bmp) == "BMP"
    bmp.write_bytes(b"BM" + b"\x00" * 8 + struct.pack("<I", 90000) + b"\x00" * 5000)
    assert file_format(bmp) is None


def test_a_text_id_column_is_refused_before_one_hot_encoding(tmp_path) -> None:
    rows = [[f"user-{i:05}", i % 7, ["a", "b", "c"][i % 3]] for i in range(3000)]
    path = write_csv(tmp_path / "users.csv", ["user_id", "visits", "species"], rows)
    source = open_source({"kind": "csv", "path": str(path), "target": "species"})
    with pytest.raises(DatasetError) as caught:
        source.check(dense_plan(("features", [3001])))
    assert str(caught.value) == (
        "users.csv, column 'user_id': text with 3,000 different values in 3,000 rows (an ID or"
        " free text?) would one-hot encode into 3,000 features; leave it out with --features"
        " (at most 1,000 values, and fewer than half the rows)"
    )
    source = open_source({**source.spec, "features": ["visits"]})  # without it: fine
    assert source.check(dense_plan(("features", [1]))).num_train > 0


def test_a_100000_column_header_is_checked_in_linear_time(tmp_path) -> None:
    """The duplicate-name check counted each name across the header: 248 s on 100k columns.
    Linear now, so it finishes within this ordinary test (bench/csv_header.py prints the time)."""
    header = [f"c{i}" for i in range(100_000)] + ["c99999", "y"]
    path = write_csv(tmp_path / "wide.csv", header, [[1] * len(header)])
    with pytest.raises(DatasetError, match=r"^wide.csv has more than one column named 'c99999'$"):
        open_source({"kind": "csv", "path": str(path), "target": "y"}).table()


def test_numbers_beyond_float32_in_a_csv_are_named_by_row_and_column(tmp_path) -> None:
    rows = [[1.0, 2.0, "a"], [3.0, 1e308, "b"], [5.0, 6.0, "a"]]
    path = write_csv(tmp_path / "big.csv", ["x", "y", "label"], rows)
    source = open_source({"kind": "csv", "path": str(path), "target": "label"})
    with pytest.raises(DatasetError) as caught:
        source.check(dense_plan(("features", [2]), units=2))
    assert (
        str(caught.value)
        == "big.csv, row 3, column 'y': 1e+308 is beyond float32's range (±3.4e+38)"
    )


@pytest.mark.parametrize(
    ("array", "value", "shown"),
    [("x", np.nan, "nan"), ("x", np.inf, "inf"), ("y", -1e300, "-1e+300")],
)
def test_nan_inf_and_huge_values_in_npz_arrays_are_named(tmp_path, array, value, shown) -> None:
    data = {"x": np.ones((10, 3)), "y": np.linspace(0, 1, 10)}
    data[array][6 if array == "y" else (6, 2)] = value
    path = tmp_path / "data.npz"
    np.savez(path, **data)
    source = open_source({"kind": "npz", "path": str(path), "task": "regression"})
    with pytest.raises(DatasetError) as caught:
        source.check(dense_plan(("x", [3]), units=1, activation="linear"))
    assert str(caught.value) == (
        f"data.npz: array '{array}', example 6 (counting from 0): {shown} is not a usable number"
        " (1 value(s) are NaN, inf or beyond float32's ±3.4e+38)"
    )


@pytest.mark.parametrize(
    ("arrays", "named", "what"),
    [
        ({"x": np.zeros((0, 20)), "y": np.zeros(0, int)}, "x", "has 0 examples (rows)"),
        ({"x": np.ones((9, 20)), "y": np.zeros(0, int)}, "y", "has 0 examples (rows)"),
        ({"x": np.float32(1), "y": np.zeros(0, int)}, "x", "is a single value"),
    ],
)
def test_an_npz_without_examples_is_refused_by_data_and_train(
    tmp_path, capsys, arrays, named, what
) -> None:
    """A 0-row array was an internal error (a reshape of nothing); it is a user error naming the
    file and the array, when the dataset is set and when the file changed before `train`."""
    from layerloom.app.cli import main

    project, data = tmp_path / "m.loom", tmp_path / "data.npz"
    assert main(["new", str(project), "--template", "mlp_classifier"]) == 0
    np.savez(data, **arrays)
    expected = (
        f"layerloom: error: data.npz: array '{named}' {what}; its first axis must list the examples"
    )
    capsys.readouterr()
    assert main(["data", str(project), "--npz", str(data)]) == 1
    assert capsys.readouterr().err.strip() == expected
    np.savez(data, x=np.ones((40, 20), "float32"), y=np.arange(40) % 3)
    assert main(["data", str(project), "--npz", str(data)]) == 0
    np.savez(data, **arrays)  # emptied after it was set
    capsys.readouterr()
    assert main(["train", str(project), "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == expected and "Traceback" not in err
