"""The small CLI things a newcomer trips on: aligned tables, counted nouns, a search that finds
nothing, and the graph as a picture."""

from __future__ import annotations

import hashlib
from pathlib import Path

from layerloom.app.cli import main
from layerloom.app.cli.export_commands import print_columns
from layerloom.nodes.wording import plural


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_columns_line_up_whatever_the_cell_lengths(capsys):
    print_columns(
        ("id", "run", "target", "path"),
        [("1", "run 1", "tflite", "/a"), ("12", "run -", "saved_model", "/b")],
        right=(0,),
    )
    lines = capsys.readouterr().out.splitlines()
    assert len({line.index("/") for line in lines[1:]}) == 1
    assert len({line.index("run") for line in lines}) == 1


def test_one_is_singular():
    assert plural(1, "epoch") == "1 epoch"
    assert plural(0, "epoch") == "0 epochs" and plural(3, "node") == "3 nodes"


def test_layers_with_no_match_exits_1_with_a_message(capsys):
    code, out, err = run(capsys, "layers", "zzz")
    assert code == 1 and out == ""
    assert "no node type matches 'zzz'" in err
    code, out, _ = run(capsys, "layers", "dens")
    assert code == 0 and "Dense" in out


def test_graph_image_png_and_svg(tmp_path: Path, capsys):
    project = tmp_path / "café.loom"
    assert run(capsys, "new", project, "--template", "residual_cnn")[0] == 0
    before = hashlib.sha256(project.read_bytes()).hexdigest()
    code, out, err = run(capsys, "graph-image", project, "-o", tmp_path / "g.png")
    assert code == 0, err
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "wrote" in out
    code, _, err = run(capsys, "graph-image", project, "-o", tmp_path / "g.svg")
    svg = (tmp_path / "g.svg").read_text()
    assert code == 0 and "<svg" in svg and svg.count("<path") > 14  # cards and edges
    assert hashlib.sha256(project.read_bytes()).hexdigest() == before  # reading changes nothing
    code, _, err = run(capsys, "graph-image", project, "-o", tmp_path / "g.jpg")
    assert code == 2 and ".png or .svg" in err and not (tmp_path / "g.jpg").exists()
    code, _, err = run(capsys, "graph-image", tmp_path / "none.loom", "-o", tmp_path / "n.png")
    assert code == 1 and "none.loom" in err
