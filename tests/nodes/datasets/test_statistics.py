"""Streaming statistics against NumPy on the same data, and streamed against whole-file."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import numpy as np
import pytest

from layerloom.nodes.datasets import statistics as st
from layerloom.nodes.datasets.image_statistics import image_statistics
from layerloom.nodes.datasets.statistics import csv_statistics
from layerloom.nodes.errors import DatasetError


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def table(tmp_path: Path) -> tuple[Path, np.ndarray, list[str]]:
    rng = np.random.default_rng(3)
    x = rng.normal(5.0, 3.0, 2000)
    colours = rng.choice(["red", "grün", "blue"], 2000, p=[0.5, 0.3, 0.2]).tolist()
    rows = [[f"{v:.17g}", c, "yes" if v > 5 else "no"] for v, c in zip(x, colours, strict=True)]
    rows[10][0] = ""  # missing
    rows[20][1] = " "  # whitespace only: missing
    path = write(tmp_path / "t.csv", ["x", "colour", "label"], rows)
    return path, np.delete(x, 10), colours


def feature(stats: dict, name: str) -> dict:
    return next(f for f in stats["features"] if f["name"] == name)


def test_numeric_statistics_equal_numpys(table) -> None:
    path, x, _ = table
    stats = csv_statistics(path, target="label").statistics
    num = feature(stats, "x")
    assert (num["count"], num["missing"], stats["rows"]) == (1999, 1, 2000)
    n = num["numeric"]
    assert n["min"] == x.min() and n["max"] == x.max()
    assert n["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert n["std"] == pytest.approx(x.std(), rel=1e-12)
    assert n["quantiles"]["exact"]
    assert n["quantiles"]["values"] == pytest.approx(np.quantile(x, st.QUANTILES).tolist())
    counts, edges = n["histogram"]["counts"], n["histogram"]["edges"]
    assert sum(counts) == len(x) and len(counts) <= st.HIST_BINS
    assert counts == np.histogram(x, edges)[0].tolist()
    with path.open(newline="", encoding="utf-8") as handle:
        labels = [row["label"] for row in csv.DictReader(handle)]
    assert stats["class_balance"] == {k: labels.count(k) for k in ("yes", "no")}


def test_categorical_counts_and_class_balance(table) -> None:
    path, x, colours = table
    stats = csv_statistics(path, target="label").statistics
    cat = feature(stats, "colour")
    assert cat["type"] == "categorical" and cat["missing"] == 1
    expected = dict.fromkeys(["red", "grün", "blue"], 0)
    for i, c in enumerate(colours):
        if i != 20:
            expected[c] += 1
    assert dict(cat["categorical"]["top"]) == expected
    assert cat["categorical"]["distinct"] == 3 and cat["categorical"]["distinct_exact"]
    assert sum(stats["class_balance"].values()) == 2000


def test_streaming_equals_whole_file(table) -> None:
    path, _, _ = table
    whole = csv_statistics(path, target="label", chunk_rows=10**7).statistics
    for chunk in (1, 7, 333):
        streamed = csv_statistics(path, target="label", chunk_rows=chunk).statistics
        for a, b in zip(copy.deepcopy(whole["features"]), streamed["features"], strict=True):
            if "numeric" in a:
                for key in ("mean", "std"):
                    assert a["numeric"].pop(key) == pytest.approx(b["numeric"].pop(key), rel=1e-9)
            assert a == b
        assert whole["class_balance"] == streamed["class_balance"]


def test_quantiles_of_a_big_column_within_the_documented_rank_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    x = rng.exponential(2.0, 120_000)
    path = tmp_path / "big.csv"
    path.write_text("x\n" + "\n".join(f"{v:.9g}" for v in x) + "\n")
    n = feature(csv_statistics(path).statistics, "x")["numeric"]
    assert not n["quantiles"]["exact"] and n["finite"] == len(x)
    values = np.sort(np.array([float(f"{v:.9g}") for v in x]))
    for q, value in zip(st.QUANTILES, n["quantiles"]["values"], strict=True):
        rank = np.searchsorted(values, value) / len(values)
        assert abs(rank - q) <= 0.0083, (q, rank)
    assert n["mean"] == pytest.approx(values.mean()) and n["std"] == pytest.approx(values.std())


def test_non_finite_non_numbers_and_ragged_rows_are_counted_with_rows(tmp_path: Path) -> None:
    rows = [["1", "a"], ["nan", "b"], ["inf", "c"], ["oops", "d"], ["2"], ["3", "e"]]
    stats = csv_statistics(write(tmp_path / "f.csv", ["v", "w"], rows))
    column = stats.columns["v"]
    assert (column.non_finite.count, column.non_finite.rows) == (2, [3, 4])
    assert (column.non_numeric.count, column.non_numeric.rows) == (1, [5])
    assert stats.statistics["ragged_rows"] == {"count": 1, "rows": [6]}
    assert feature(stats.statistics, "v")["numeric"]["finite"] == 3


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "latin.csv"
    bad.write_bytes(b"a,b\n\xe9,1\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        csv_statistics(bad)
    with pytest.raises(DatasetError, match="cannot read"):
        csv_statistics(tmp_path / "absent.csv")
    dup = write(tmp_path / "dup.csv", ["a", "a"], [[1, 2]])
    with pytest.raises(DatasetError, match="more than one column"):
        csv_statistics(dup)


def test_image_folder_sizes_modes_and_corrupt_files(tmp_path: Path) -> None:
    from layerloom.nodes.png import encode_png

    for label, shape, count in (("cat", (8, 6, 3), 3), ("dog", (4, 4, 1), 2)):
        (tmp_path / label).mkdir()
        for i in range(count):
            pixels = np.zeros(shape, dtype=np.uint8)
            (tmp_path / label / f"{i}.png").write_bytes(encode_png(pixels))
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    stats = image_statistics(tmp_path)
    assert stats["files"] == 6
    assert stats["class_balance"] == {"cat": 3, "dog": 3}
    assert stats["sizes"] == {"8x6": 3, "4x4": 2}
    assert stats["modes"] == {"colour": 3, "grey": 2}
    assert stats["corrupt"] == {"count": 1, "files": ["dog/broken.png"]}
