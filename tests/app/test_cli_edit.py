"""`layerloom edit`: every action round-trips through the saved project as a user drives it, each
saving one graph version; refusals name what is wrong, exit 2 and leave the file's bytes alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.nodes.project import Project


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cnn(tmp_path, capsys) -> Path:
    path = tmp_path / "cnn.loom"
    assert run(capsys, "new", str(path), "--template", "small_cnn")[0] == 0
    return path


def versions(path: Path) -> list[str]:
    with Project.open_readonly(path) as project:
        return [v.message for v in project.graph_versions()]


def graph_of(path: Path):
    with open_project(path, readonly=True) as opened:
        return opened.graph


def wiring(path: Path) -> set[tuple[str, str, str]]:
    graph = graph_of(path)
    return {(graph.node(e.src).name, graph.node(e.dst).name, e.port) for e in graph.edges()}


def edit(capsys, path: Path, *argv: str) -> tuple[int, str, str]:
    return run(capsys, "edit", str(path), *argv)


# --- each action: one version, the change printed, then the problems ----------------------------


def test_add_after_a_node_takes_over_its_wires_with_params(cnn, capsys) -> None:
    before = versions(cnn)
    code, out, _ = edit(capsys, cnn, "add", "Dropout", "--after", "flatten", "rate=0.25")
    assert code == 0
    assert "added dropout_1 (Dropout) after flatten: flatten -> dropout_1 -> dropout" in out
    assert "dropout_1.rate = 0.25" in out and "no problems" in out
    assert versions(cnn) == [*before, "edit: add dropout_1 (Dropout) after flatten"]
    edges = wiring(cnn)
    assert ("flatten", "dropout_1", "input") in edges and ("dropout_1", "dropout", "input") in edges
    assert ("flatten", "dropout", "input") not in edges
    graph = graph_of(cnn)
    added, flatten = graph.by_name("dropout_1"), graph.by_name("flatten")
    assert added.params["rate"] == 0.25 and added.pos[0] > flatten.pos[0]
    # what came after moved one layer on, so nothing overlaps the new node
    assert graph.by_name("dropout").pos[0] > added.pos[0]


def test_add_between_by_full_type_id_with_a_non_ascii_name(cnn, capsys) -> None:
    code, out, _ = edit(
        capsys, cnn, "add", "keras.layers.Dense", "--between", "dropout", "classes",
        "--name", "café", "units=64", "activation=relu",
    )  # fmt: skip
    assert code == 0, out
    assert "added café (Dense) between dropout and classes" in out
    assert {("dropout", "café", "input"), ("café", "classes", "input")} <= wiring(cnn)
    assert len(versions(cnn)) == 2
    node = graph_of(cnn).by_name("café")
    assert node.params["units"] == 64 and node.params["activation"] == "relu"


def test_add_unconnected_then_connect_and_disconnect(cnn, capsys) -> None:
    assert edit(capsys, cnn, "add", "dense")[0] == 0  # any case of the short name
    code, out, _ = edit(capsys, cnn, "connect", "flatten", "dense")
    assert code == 0 and "connected flatten -> dense.input" in out
    assert ("flatten", "dense", "input") in wiring(cnn)
    code, out, _ = edit(capsys, cnn, "disconnect", "flatten", "dense")
    assert code == 0 and "disconnected flatten -> dense.input" in out
    assert "dense: input 'input' is not connected" in out  # the problems it now has
    assert len(versions(cnn)) == 4


def test_connect_to_a_taken_port_replaces_its_wire(cnn, capsys) -> None:
    code, out, _ = edit(capsys, cnn, "connect", "pool_2", "flatten", "--port", "input")
    assert code == 0 and "(replaces conv_2)" not in out and "replaces pool_2" not in out
    assert "nothing changed" in out or "already feeds" in out
    code, out, _ = edit(capsys, cnn, "connect", "pool_1", "flatten", "--port", "input")
    assert code == 0 and "connected pool_1 -> flatten.input (replaces pool_2)" in out
    assert ("pool_1", "flatten", "input") in wiring(cnn)
    assert ("pool_2", "flatten", "input") not in wiring(cnn)


def test_remove_with_and_without_reconnect(cnn, capsys) -> None:
    code, out, _ = edit(capsys, cnn, "remove", "dropout", "--reconnect")
    assert code == 0 and "removed dropout (Dropout); flatten now feeds classes" in out
    assert ("flatten", "classes", "input") in wiring(cnn) and "no problems" in out
    code, out, _ = edit(capsys, cnn, "remove", "flatten")
    assert code == 0 and "unconnected now: classes.input" in out
    assert "classes: input 'input' is not connected" in out
    assert versions(cnn)[-2:] == ["edit: remove dropout", "edit: remove flatten"]


def test_rename_to_a_non_ascii_name_and_refer_to_it(cnn, capsys) -> None:
    code, out, _ = edit(capsys, cnn, "rename", "conv_1", "свёртка_1")
    assert code == 0 and "renamed conv_1 -> свёртка_1" in out
    code, out, _ = edit(capsys, cnn, "set", "свёртка_1.filters=8")
    assert code == 0 and "свёртка_1.filters: 16 -> 8" in out
    assert graph_of(cnn).by_name("свёртка_1").params["filters"] == 8


def test_set_several_params_of_several_nodes_is_one_version(cnn, capsys) -> None:
    code, out, _ = edit(
        capsys, cnn, "set", "conv_1.kernel_size=5,5", "conv_2.filters=8",
        "conv_2.padding=same", "dropout.rate=0.1", "conv_1.strides=[1, 1]",
    )  # fmt: skip
    assert code == 0, out
    for line in (
        "conv_1.kernel_size: (3, 3) -> (5, 5)",
        "conv_2.filters: 32 -> 8",
        "conv_2.padding: valid -> same",
        "dropout.rate: 0.25 -> 0.1",
        "conv_1.strides is already (1, 1)",
    ):
        assert line in out, out
    assert len(versions(cnn)) == 2
    graph = graph_of(cnn)
    assert graph.by_name("conv_1").params["kernel_size"] == (5, 5)
    assert graph.by_name("conv_2").params["padding"] == "same"


def test_a_shape_breaking_edit_is_saved_and_its_problems_printed(cnn, capsys) -> None:
    code, out, _ = edit(capsys, cnn, "set", "conv_1.kernel_size=30")
    assert code == 0
    assert "conv_1.kernel_size: (3, 3) -> (30, 30)" in out
    assert "1 problem(s):" in out and "conv_1: Conv2D cannot slide" in out
    code, out, _ = edit(capsys, cnn, "set", "conv_1.kernel_size=3", "--json")
    data = json.loads(out)
    assert code == 0 and data["changed"] and data["problems"] == [] and data["graph_version"] == 3


def test_setting_the_same_value_saves_nothing(cnn, capsys) -> None:
    code, out, _ = edit(capsys, cnn, "set", "conv_1.filters=16")
    assert code == 0 and "conv_1.filters is already 16" in out and "nothing changed" in out
    assert len(versions(cnn)) == 1


# --- refusals: by name, exit 2, the file's bytes unchanged ---------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["set", "conv_1.filters=0"], "conv_1.filters must be >= 1, got 0"),
        (["set", "conv_1.filters=eight"], "conv_1.filters must be an integer, got 'eight'"),
        (["set", "conv_1.padding=round"], "conv_1.padding must be one of 'valid', 'same'"),
        (["set", "conv_1.filter=3"], "conv_1 (Conv2D) has no parameter 'filter'; did you mean"),
        (["set", "x.filters=3"], "no node 'x'; nodes are: image, rescale, conv_1"),
        (["set", "conv_1=3"], "'conv_1=3' is not NODE.PARAM=VALUE"),
        (["add", "Dens"], "unknown node type 'Dens'; did you mean 'Dense'?"),
        (["add", "Dense", "size=3"], "dense (Dense) has no parameter 'size'"),
        (["add", "Dense", "--name", "conv_1"], "'conv_1' is already the name of another node"),
        (["add", "Input", "--after", "flatten"], "takes no inputs"),
        (["add", "Dense", "--between", "conv_1", "classes"], "conv_1 does not feed classes"),
        (["remove", "nope"], "no node 'nope'"),
        (["connect", "classes", "conv_1"], "would make a cycle: conv_1 already feeds classes"),
        (["connect", "pool_1", "flatten"], "every input of flatten is taken (input from pool_2)"),
        (["connect", "pool_1", "flatten", "--port", "in7"], "flatten (Flatten) has no input 'in7'"),
        (["disconnect", "conv_1", "classes"], "conv_1 does not feed classes"),
        (["rename", "conv_1", "has space"], "name 'has space' must be letters, digits"),
        (["rename", "conv_1", "conv_2"], "'conv_2' is already the name of another node"),
    ],
)
def test_refused_edits_name_the_problem_exit_2_and_leave_the_bytes(
    cnn, capsys, argv, message
) -> None:
    before = cnn.read_bytes()
    code, out, err = edit(capsys, cnn, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1, err
    assert cnn.read_bytes() == before
    assert not Path(f"{cnn}-wal").exists()


def test_set_needs_at_least_one_assignment(cnn, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["edit", str(cnn), "set"])
    assert exit_info.value.code == 2


def test_edits_and_settings_changes_never_import_tensorflow(cnn) -> None:
    from tests.app.test_startup import PROBE, probe

    for argv in (
        ["edit", cnn.name, "add", "Dense", "--after", "flatten", "units=8"],
        ["edit", cnn.name, "set", "dense.units=4", "conv_1.kernel_size=5"],
        ["settings", cnn.name, "augmentation=flip", "epochs=2"],
    ):
        outcome = probe(PROBE, *argv, cwd=cnn.parent)
        assert outcome["code"] == 0 and outcome["out"].strip(), outcome
        assert outcome["loaded"] == [], f"`layerloom {' '.join(argv)}` imported {outcome['loaded']}"


def test_build_a_model_from_an_empty_project(tmp_path, capsys) -> None:
    path = tmp_path / "empty.loom"
    run(capsys, "new", str(path))
    assert edit(capsys, path, "add", "Input", "shape=8")[0] == 0
    code, out, _ = edit(
        capsys, path, "add", "Dense", "--after", "input", "units=3", "activation=softmax"
    )
    assert code == 0 and "input -> dense" in out and "no problems" in out
    code, out, _ = run(capsys, "info", str(path), "--json")
    info = json.loads(out)
    assert info["problems"] == [] and info["total_params"] == 27 and info["outputs"] == ["dense"]
    assert len(versions(path)) == 3
