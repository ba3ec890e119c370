"""`layerloom edit P group/ungroup` and `layerloom templates save`: a block made on the command
line saves as one graph version, a block saved as a user template is what `new --template` makes,
and refusals exit 2 leaving the project's bytes alone."""

from __future__ import annotations

import json
from pathlib import Path

from layerloom.app.cli import main
from layerloom.app.workbench import open_project


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_group_save_as_template_and_new_from_it(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = tmp_path / "m.loom"
    assert run(capsys, "new", str(path), "--template", "mlp_classifier")[0] == 0
    code, out, _ = run(capsys, "edit", str(path), "group", "Kopf 頭", "hidden_2", "classes")
    assert code == 0 and "grouped hidden_2, classes as block Kopf 頭" in out
    with open_project(path, readonly=True) as opened:
        (block,) = opened.graph.blocks()
        assert [opened.graph.node(i).name for i in block.node_ids] == ["hidden_2", "classes"]
        assert opened.project.graph_versions()[-1].message == "edit: group Kopf 頭"

    before = path.read_bytes()
    code, _, err = run(capsys, "edit", str(path), "group", "other", "classes")
    assert code == 2 and "already belong to block 'Kopf 頭'" in err
    code, _, err = run(capsys, "edit", str(path), "ungroup", "nope")
    assert code == 2 and "no block named 'nope'; blocks are: Kopf 頭" in err
    code, _, err = run(capsys, "templates", "save", str(path), "x", "--block", "nope")
    assert code == 2 and "no block named 'nope'" in err
    code, _, err = run(capsys, "templates", "save", str(path), "mlp_classifier")
    assert code == 2 and "starter template" in err
    assert path.read_bytes() == before

    code, out, _ = run(capsys, "templates", "save", str(path), "Kopf-Vorlage", "--block", "Kopf 頭")
    assert code == 0 and "Kopf-Vorlage" in out
    assert path.read_bytes() == before  # saving a template only reads the project
    code, out, _ = run(capsys, "templates", "--json")
    mine = [t for t in json.loads(out) if t["user"]]
    assert [t["name"] for t in mine] == ["Kopf-Vorlage"]

    fresh = tmp_path / "n.loom"
    assert run(capsys, "new", str(fresh), "--template", "Kopf-Vorlage")[0] == 0
    with open_project(fresh, readonly=True) as opened:
        assert sorted(n.name for n in opened.graph.nodes()) == ["classes", "hidden_2"]
        (block,) = opened.graph.blocks()
        assert block.name == "Kopf 頭" and len(block.node_ids) == 2

    code, out, _ = run(capsys, "edit", str(path), "ungroup", "Kopf 頭")
    assert code == 0 and "ungrouped block Kopf 頭 (2 nodes)" in out
    with open_project(path, readonly=True) as opened:
        assert opened.graph.blocks() == []


def test_a_whole_graph_template_keeps_positions(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = tmp_path / "c.loom"
    assert run(capsys, "new", str(path), "--template", "small_cnn")[0] == 0
    assert run(capsys, "templates", "save", str(path), "mine", "--description", "我的")[0] == 0
    copy = tmp_path / "d.loom"
    assert run(capsys, "new", str(copy), "-t", "mine")[0] == 0
    with open_project(path, readonly=True) as a, open_project(copy, readonly=True) as b:
        assert sorted((n.name, n.pos) for n in a.graph.nodes()) == sorted(
            (n.name, n.pos) for n in b.graph.nodes()
        )
    assert Path(tmp_path / "data" / "layerloom" / "templates" / "mine.json").exists()
