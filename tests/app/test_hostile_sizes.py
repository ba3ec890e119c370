"""Absurd sizes (issue #15 item 10): `units=10**12` passed `validate` and crashed `summary` inside
Keras. Every size parameter now declares a sane maximum (Int(max=...)), and a model whose weights
would outgrow the memory budget is refused from the parameter counts alone, naming its biggest
node, by `validate`, `summary` and `train` alike: exit 1, one line, no TensorFlow needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import open_project
from layerloom.nodes.analysis import MAX_PARAMETERS
from layerloom.nodes.params import MAX_WIDTH
from layerloom.nodes.registry import default_registry


def _project(tmp_path: Path, sizes: dict[str, dict]) -> Path:
    path = tmp_path / "sizes.loom"
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    with open_project(path) as opened:
        for name, params in sizes.items():
            node = opened.graph.by_name(name)
            assert node is not None
            opened.graph.set_params(node.id, {**node.params, **params})
        opened.save("hostile sizes")
    return path


def _refused(capsys, path: Path, expected: str) -> None:
    capsys.readouterr()
    assert main(["validate", str(path)]) == 1
    assert f"  - {expected}" in capsys.readouterr().out.splitlines()
    for command in (["summary", str(path)], ["train", str(path), "--epochs", "1"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.splitlines()[-1] == (
            f"layerloom: error: the graph has 1 problem(s); first: {expected}"
        ), command
        assert "Traceback" not in err


def test_a_size_beyond_its_declared_maximum_is_refused_naming_node_and_param(
    tmp_path, capsys
) -> None:
    path = _project(tmp_path, {"hidden_1": {"units": 10**12}})
    _refused(capsys, path, "hidden_1: units must be <= 1,048,576, got 1,000,000,000,000")


@pytest.mark.parametrize(
    ("type_id", "param"),
    [
        ("keras.layers.Dense", "units"),
        ("keras.layers.Conv2D", "filters"),
        ("keras.layers.Embedding", "input_dim"),
        ("keras.layers.Embedding", "output_dim"),
        ("keras.layers.LSTM", "units"),
    ],
)
def test_size_params_declare_their_maximum_for_every_face(type_id, param) -> None:
    """One mechanism: the Int's max is what the inspector's range and `layers --json` show."""
    spec = default_registry()[type_id]
    (described,) = [p for p in spec.describe()["params"] if p["name"] == param]
    assert described["max"] >= MAX_WIDTH
    assert spec.check_params({param: described["max"] + 1})


def test_a_model_beyond_the_memory_budget_is_refused_naming_its_biggest_node(
    tmp_path, capsys
) -> None:
    # Every width within its maximum, but 4096 x 2^19 + 2^19 x 2^20 weights: ~550 G parameters.
    sizes = {
        "features": {"shape": [4096]},
        "hidden_1": {"units": 1 << 19},
        "hidden_2": {"units": 1 << 20},
    }
    path = _project(tmp_path, sizes)
    total = 4096 * (1 << 19) + (1 << 19) + (1 << 19) * (1 << 20) + (1 << 20) + (1 << 20) * 3 + 3
    biggest = (1 << 19) * (1 << 20) + (1 << 20)
    _refused(
        capsys,
        path,
        f"hidden_2: the model would have {total:,} parameters (2,056 GiB of float32 weights),"
        f" over the limit of {MAX_PARAMETERS:,} (8 GiB); this node has {biggest:,} of them:"
        " make it smaller",
    )
