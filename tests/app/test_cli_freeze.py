"""`layerloom edit freeze|unfreeze` and the trainable/frozen split of `info`: one graph version per
command with the change printed; refusals exit 2 and leave the file's bytes alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.test_cli_edit import graph_of, run, versions


@pytest.fixture
def cnn(tmp_path, capsys) -> Path:
    path = tmp_path / "çnn.loom"
    assert run(capsys, "new", str(path), "--template", "small_cnn")[0] == 0
    return path


def frozen(path: Path) -> set[str]:
    return {n.name for n in graph_of(path).nodes() if not n.trainable}


def test_freeze_all_but_the_head_then_info_splits_the_params(cnn, capsys) -> None:
    before = versions(cnn)
    code, out, _ = run(capsys, "edit", str(cnn), "freeze", "--all-but", "classes")
    assert code == 0
    assert "froze 7: rescale, conv_1, pool_1, conv_2, pool_2, flatten, dropout" in out
    assert "already trainable: classes" in out
    assert "12,810 params (8,010 trainable, 4,800 frozen)" in out
    assert versions(cnn) == [*before, "edit: freeze all but classes"]
    assert frozen(cnn) == {"rescale", "conv_1", "pool_1", "conv_2", "pool_2", "flatten", "dropout"}

    code, out, _ = run(capsys, "info", str(cnn))
    assert code == 0
    assert "4,640 (frozen)" in out and "12,810 params (8,010 trainable, 4,800 frozen)" in out
    code, out, _ = run(capsys, "info", str(cnn), "--json")
    data = json.loads(out)
    assert (data["trainable_params"], data["frozen_params"]) == (8010, 4800)
    assert {n["name"]: n["trainable"] for n in data["nodes"]}["conv_2"] is False


def test_freeze_and_unfreeze_by_name_one_version_each(cnn, capsys) -> None:
    before = versions(cnn)
    code, out, _ = run(capsys, "edit", str(cnn), "freeze", "conv_1", "conv_2", "--json")
    data = json.loads(out)
    assert code == 0 and data["changed"] and data["frozen_params"] == 4800
    assert frozen(cnn) == {"conv_1", "conv_2"}
    code, out, _ = run(capsys, "edit", str(cnn), "freeze", "conv_1")
    assert code == 0 and "already frozen: conv_1" in out and "nothing changed" in out
    code, out, _ = run(capsys, "edit", str(cnn), "unfreeze", "conv_2")
    assert code == 0 and "unfroze 1: conv_2" in out and frozen(cnn) == {"conv_1"}
    code, out, _ = run(capsys, "edit", str(cnn), "unfreeze", "--all")
    assert code == 0 and "unfroze 1: conv_1" in out and frozen(cnn) == set()
    assert versions(cnn) == [
        *before,
        "edit: freeze conv_1, conv_2",
        "edit: unfreeze conv_2",
        "edit: unfreeze all",
    ]
    code, out, _ = run(capsys, "info", str(cnn))
    assert "(frozen)" not in out and "12,810 params\n" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["freeze", "nope"], "no node 'nope'"),
        (["freeze", "image"], "image is an Input: it has no weights"),
        (["freeze"], "give the nodes to freeze, or --all-but"),
        (["freeze", "conv_1", "--all-but", "classes"], "give the nodes to freeze, or --all-but"),
        (["freeze", "--all-but", "clases"], "did you mean 'classes'"),
        (["unfreeze"], "give the nodes to unfreeze, or --all"),
        (["unfreeze", "conv_1", "--all"], "give the nodes to unfreeze, or --all"),
    ],
)
def test_refusals_exit_2_and_leave_the_bytes(cnn, capsys, argv, message) -> None:
    before = cnn.read_bytes()
    code, out, err = run(capsys, "edit", str(cnn), *argv)
    assert code == 2, (out, err)
    assert message in err and len(err.strip().splitlines()) == 1
    assert cnn.read_bytes() == before
