"""Blocks: named node groups that are a view only. Grouping is undoable, blocks save and reopen
intact, old graphs load, user templates made from a block come back as that block, and the
BuildPlan is the same with and without blocks."""

from __future__ import annotations

import json

import pytest

from layerloom.app.workbench import create_project, open_project
from layerloom.nodes.compile import build_plan
from layerloom.nodes.edits import GroupBlock, RemoveNodes, SetCollapsed, Ungroup
from layerloom.nodes.errors import LayerloomError, ProjectFileError
from layerloom.nodes.graph import Block
from layerloom.nodes.registry import default_registry
from layerloom.nodes.serialize import graph_from_dict, graph_to_dict
from layerloom.nodes.templates import list_templates, load_template
from layerloom.nodes.user_templates import save_user_template, template_data


@pytest.fixture
def graph():
    return load_template("residual_cnn", default_registry())


def _ids(graph, *names):
    return tuple(graph.by_name(n).id for n in names)


def test_group_collapse_ungroup_and_undo(graph) -> None:
    before = graph_to_dict(graph)
    ids = _ids(graph, "block_conv_1", "block_bn_1")
    group = GroupBlock(Block("Блок 1", ids))
    group.apply(graph)
    assert graph.block("Блок 1").collapsed and graph.block("Блок 1").node_ids == ids
    collapse = SetCollapsed("Блок 1", False)
    collapse.apply(graph)
    assert not graph.block("Блок 1").collapsed
    collapse.revert(graph)
    assert graph.block("Блок 1").collapsed
    ungroup = Ungroup("Блок 1")
    ungroup.apply(graph)
    assert graph.blocks() == []
    ungroup.revert(graph)
    group_again = GroupBlock(Block("other", ids[:1]))
    with pytest.raises(LayerloomError, match="do not nest"):
        group_again.apply(graph)
    with pytest.raises(LayerloomError, match="already a block"):
        GroupBlock(Block("Блок 1", _ids(graph, "classes"))).apply(graph)
    group.revert(graph)
    assert graph_to_dict(graph) == before  # no "blocks" key: same bytes as before blocks existed


def test_removing_a_member_and_undoing_keeps_the_block(graph) -> None:
    ids = _ids(graph, "block_conv_1", "block_bn_1")
    GroupBlock(Block("b", ids)).apply(graph)
    remove = RemoveNodes([ids[0]])
    remove.apply(graph)
    assert graph_to_dict(graph)["blocks"][0]["nodes"] == [ids[1]]
    remove.revert(graph)
    assert graph_to_dict(graph)["blocks"][0]["nodes"] == list(ids)


def test_blocks_save_and_reopen_intact_and_old_files_load(tmp_path, graph) -> None:
    registry = default_registry()
    path = tmp_path / "b.loom"
    with create_project(path, "residual_cnn") as opened:
        ids = _ids(opened.graph, "block_conv_1", "block_bn_1", "block_relu")
        GroupBlock(Block("残差 block", ids, collapsed=True)).apply(opened.graph)
        GroupBlock(Block("head", _ids(opened.graph, "classes"), collapsed=False)).apply(
            opened.graph
        )
        opened.save("group")
        saved = graph_to_dict(opened.graph)
    with open_project(path, readonly=True) as opened:
        assert graph_to_dict(opened.graph) == saved
        blocks = {b.name: b for b in opened.graph.blocks()}
        assert blocks["残差 block"].node_ids == ids and blocks["残差 block"].collapsed
        assert not blocks["head"].collapsed
    old = graph_to_dict(graph)
    assert "blocks" not in old and graph_from_dict(old, registry).blocks() == []
    bad = {**saved, "blocks": [{"name": "x", "nodes": ["nope"]}]}
    with pytest.raises(ProjectFileError, match="blocks are inconsistent"):
        graph_from_dict(bad, registry)


def test_the_build_plan_is_the_same_with_and_without_blocks(graph) -> None:
    registry = default_registry()
    plain = build_plan(graph, registry)
    GroupBlock(Block("stem", _ids(graph, "block_conv_1", "block_bn_1"))).apply(graph)
    GroupBlock(Block("head", _ids(graph, "classes"), collapsed=False)).apply(graph)
    grouped = build_plan(graph, registry)
    assert grouped == plain
    reopened = graph_from_dict(graph_to_dict(graph), registry)
    assert build_plan(reopened, registry).to_json() == plain.to_json()


def test_a_block_saved_as_a_user_template_comes_back_as_that_block(
    tmp_path, monkeypatch, graph
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    ids = _ids(graph, "block_conv_1", "block_bn_1", "block_relu")
    GroupBlock(Block("Résidu", ids)).apply(graph)
    path = save_user_template(template_data(graph, "my residual", "Résidu"), "résidu vorlage")
    assert path.parent == tmp_path / "data" / "layerloom" / "templates"
    assert json.loads(path.read_text(encoding="utf-8"))["description"] == "my residual"
    assert [i.name for i in list_templates() if i.user] == ["résidu vorlage"]
    with pytest.raises(LayerloomError, match="exists"):
        save_user_template(template_data(graph, "x"), "résidu vorlage")
    with pytest.raises(LayerloomError, match="may not contain"):
        save_user_template(template_data(graph, "x"), "../evil")
    loaded = load_template("résidu vorlage", default_registry())
    assert sorted(n.name for n in loaded.nodes()) == ["block_bn_1", "block_conv_1", "block_relu"]
    (block,) = loaded.blocks()
    assert block.name == "Résidu" and set(block.node_ids) == {n.id for n in loaded.nodes()}
    assert not set(block.node_ids) & set(ids)  # fresh ids on every load
