"""`stats`, `schema` and `check-data` on a real project with small generated CSVs: every anomaly
kind with its column and rows, drift on a shifted column and none on a resample, TFMD protos
parsed back with tensorflow-metadata, hostile names, exit codes and project bytes."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.data_checks import check_data, edit_project_schema, stored_schema
from layerloom.nodes.datasets import store_dataset_spec
from layerloom.nodes.errors import DatasetError

HOSTILE = "prix </script>\n€"
HEADER = ["age", "colour", HOSTILE, "label"]


def rows(n: int, seed: int, shift: float = 0.0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [
        [
            f"{rng.normal(40 + shift, 8):.3f}",
            str(rng.choice(["red", "blue", "grün"])),
            f"{rng.uniform(0, 1):.4f}",
            str(rng.choice(["yes", "no"])),
        ]
        for _ in range(n)
    ]


def write(path: Path, data: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(data)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "p.loom"
    train = write(tmp_path / "train.csv", rows(600, 1))
    with create_project(path, "mlp_classifier") as opened:
        store_dataset_spec(opened, {"kind": "csv", "path": str(train), "target": "label"})
    return path


def check(project: Path, path: Path) -> list[tuple[str | None, str, list[int]]]:
    with open_project(project, readonly=True) as opened:
        result = check_data(opened, path)
    return [(a.column, a.kind, a.rows) for a in result.anomalies]


def test_check_data_infers_and_stores_the_schema_once_then_is_read_only(project, tmp_path):
    clean = write(tmp_path / "clean.csv", rows(300, 2))
    before = digest(project)
    assert main(["check-data", str(project), str(clean)]) == 0
    assert digest(project) != before  # the schema was inferred and stored
    with open_project(project, readonly=True) as opened:
        assert stored_schema(opened)["target"] == "label"
    stored = digest(project)
    assert main(["check-data", str(project), str(clean)]) == 0
    assert main(["stats", str(project)]) == 0
    assert main(["schema", str(project)]) == 0
    assert digest(project) == stored


def test_each_anomaly_kind_names_its_column_and_rows(project, tmp_path):
    assert main(["schema", str(project), "--infer"]) == 0
    data = rows(100, 3)
    # The header spans lines 1-2 (a quoted newline in a name): data[i] is on line i + 3.
    data[4][0] = "old"  # line 7: type change
    data[7][0] = "nan"  # line 10: non-finite
    data[9][0] = "1e6"  # line 12: above the range
    data[11][1] = "purple"  # line 14: unseen category
    data[12][1] = ""  # line 15: missing where training had none
    data[15][3] = "maybe"  # line 18: a label never seen
    bad = write(tmp_path / "bad.csv", data)
    found = check(project, bad)
    assert ("age", "type_change", [7]) in found
    assert ("age", "non_finite", [10]) in found
    assert ("age", "out_of_range", [12]) in found
    assert ("colour", "unseen_category", [14]) in found
    assert ("colour", "missing_values", [15]) in found
    assert ("label", "label_set_change", [18]) in found
    assert not [f for f in found if f[1] == "drift"]


def test_missing_extra_columns_ragged_rows_and_an_absent_label(project, tmp_path):
    data = [[r[0], r[1], r[3]] for r in rows(80, 4)]
    for r in data:
        r[2] = "yes"
    data[2].append("surplus")  # line 4: ragged
    path = write(tmp_path / "cols.csv", data, ["age", "colour", "label"])
    extra = write(tmp_path / "extra.csv", rows(50, 5), [*HEADER[:3], "label", "note"][:4])
    found = check(project, path)
    assert (HOSTILE, "missing_column", []) in found
    assert (None, "ragged_rows", [4]) in found
    assert ("label", "label_set_change", []) in found  # "no" is absent
    assert check(project, extra) == []
    with_extra = [[*r, "x"] for r in rows(40, 6)]
    assert ("note", "extra_column", []) in check(
        project, write(tmp_path / "e.csv", with_extra, [*HEADER, "note"])
    )


def test_drift_on_a_shifted_column_not_on_a_resample(project, tmp_path):
    resample = write(tmp_path / "resample.csv", rows(400, 7))
    shifted = write(tmp_path / "shifted.csv", rows(400, 8, shift=8.0))
    assert check(project, resample) == []
    drift = [f for f in check(project, shifted) if f[1] == "drift"]
    assert [f[0] for f in drift] == ["age"]
    # A threshold set per feature in the schema: off here.
    with open_project(project) as opened:
        edit_project_schema(opened, ["age.drift=off", "age.max=1000"])
    assert check(project, shifted) == []


def test_cli_exit_codes_json_and_escaped_messages(project, tmp_path, capsys):
    data = rows(50, 9)
    # Line numbers are the file's (a row ends on its last line, as `data` reports them): the
    # header takes lines 1-2 and data[3] lines 6-7, for the quoted newlines.
    data[3][2] = "</script>\n2"
    data[5][1] = "schwarz\u200b</script>"
    bad = write(tmp_path / "bad €.csv", data)
    assert main(["schema", str(project), "--infer"]) == 0
    capsys.readouterr()
    before = digest(project)
    assert main(["check-data", str(project), str(bad)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "bad €.csv: 2 anomalies"
    assert len(lines) == 3  # one line each, the newline in the column name escaped
    assert '"prix </script>\\n€"' in out and "(row 7)" in out and '"</script>\\n2"' in out
    assert main(["check-data", str(project), str(bad), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["passed"]
    kinds = {(a["column"], a["kind"], tuple(a["rows"])) for a in report["anomalies"]}
    assert kinds == {(HOSTILE, "type_change", (7,)), ("colour", "unseen_category", (9,))}
    assert digest(project) == before
    assert main(["check-data", str(project), str(tmp_path / "absent.csv")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_schema_edits_are_checked_before_writing(project, capsys):
    assert main(["schema", str(project), "--infer"]) == 0
    capsys.readouterr()
    before = digest(project)
    for bad in (["nope.min=1"], ["age.min=x"], ["agemin=1"], ["age.min=5", "age.max=1"]):
        assert main(["schema", str(project), "--set", *bad]) == 1
        assert capsys.readouterr().err.count("\n") == 1
    assert digest(project) == before
    assert (
        main(["schema", str(project), "--set", "colour.values=red,blue", f"{HOSTILE}.min=0"]) == 0
    )
    capsys.readouterr()
    assert main(["schema", str(project), "--json"]) == 0
    schema = json.loads(capsys.readouterr().out)
    by_name = {f["name"]: f for f in schema["features"]}
    assert by_name["colour"]["values"] == ["blue", "red"] and by_name[HOSTILE]["min"] == 0


def test_tfmd_protos_parse_with_tensorflow_metadata(project, tmp_path, capsys):
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

    assert main(["schema", str(project), "--infer"]) == 0
    capsys.readouterr()
    out = tmp_path / "tfmd"
    assert main(["stats", str(project), "--tfmd", str(out), "--json"]) == 0
    stats_json = json.loads(capsys.readouterr().out)
    stats = text_format.Parse(
        (out / "stats.pbtxt").read_text("utf-8"), statistics_pb2.DatasetFeatureStatisticsList()
    )
    (dataset,) = stats.datasets
    assert dataset.num_examples == 600
    features = {f.path.step[0]: f for f in dataset.features}
    assert set(features) == set(HEADER)
    age = features["age"]
    assert age.type == statistics_pb2.FeatureNameStatistics.FLOAT
    numeric = next(f for f in stats_json["features"] if f["name"] == "age")["numeric"]
    assert age.num_stats.mean == pytest.approx(numeric["mean"])
    assert age.num_stats.common_stats.num_non_missing == 600
    assert sum(b.sample_count for b in age.num_stats.histograms[0].buckets) == 600
    colour = features["colour"].string_stats
    assert colour.unique == 3 and {v.value for v in colour.top_values} == {"red", "blue", "grün"}
    schema = text_format.Parse((out / "schema.pbtxt").read_text("utf-8"), schema_pb2.Schema())
    by_name = {f.name: f for f in schema.feature}
    assert by_name["age"].type == schema_pb2.FLOAT and by_name["age"].float_domain.max > 40
    assert by_name["age"].drift_comparator.jensen_shannon_divergence.threshold == 0.1
    assert by_name["colour"].drift_comparator.infinity_norm.threshold == 0.2
    domains = {d.name: list(d.value) for d in schema.string_domain}
    assert domains[by_name["label"].domain] == ["no", "yes"]
    assert HOSTILE in by_name


def test_stats_of_a_file_and_of_a_non_csv_project(project, tmp_path, capsys):
    other = write(tmp_path / "other.csv", rows(30, 10))
    assert main(["stats", str(project), "--data", str(other)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("other.csv: 30 rows, 4 columns (target label)")
    assert '"prix </script>\\n€"' in out  # the name's newline escaped: one line per feature
    from layerloom.nodes.png import write_png

    (tmp_path / "imgs" / "a").mkdir(parents=True)
    write_png(tmp_path / "imgs" / "a" / "0.png", np.zeros((3, 4, 3), np.uint8))
    out = tmp_path / "img_tfmd"
    assert main(["stats", str(project), "--data", str(tmp_path / "imgs"), "--tfmd", str(out)]) == 0
    assert "imgs: 1 images" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["stats.pbtxt"]  # no CSV schema for images
    path = tmp_path / "s.loom"
    assert main(["new", str(path), "--template", "small_cnn"]) == 0
    with open_project(path, readonly=True) as opened, pytest.raises(DatasetError, match="CSV"):
        check_data(opened, other)


def test_stats_schema_and_check_data_never_import_tensorflow(project, tmp_path):
    import subprocess
    import sys

    clean = write(tmp_path / "clean.csv", rows(50, 11))
    script = (
        "import sys, io, contextlib\n"
        "from layerloom.app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    codes = [main(['stats', {str(project)!r}, '--tfmd', {str(tmp_path / 'o')!r}]),\n"
        f"             main(['check-data', {str(project)!r}, {str(clean)!r}]),\n"
        f"             main(['schema', {str(project)!r}])]\n"
        "print(codes, sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "[0, 0, 0] []", done.stderr
