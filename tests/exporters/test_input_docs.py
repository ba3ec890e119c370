"""Every export states its exact input (``exporters.input_docs``): image models say the size,
colour conversion and resize method, and the README's snippet prepares a file exactly as training
did; without data the export states the plan's arrays as they are."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from layerloom.exporters.base import ExportContext
from layerloom.exporters.registry import default_exporters
from layerloom.exporters.run import run_export
from layerloom.exporters.samples import synthetic
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import open_source
from layerloom.nodes.datasets.contract import InputContract
from layerloom.nodes.registry import default_registry
from layerloom.nodes.templates import load_template
from tests.exporters.harness import model_for, run_exporter_case

pytestmark = pytest.mark.keras


def _two_class_cnn():
    registry = default_registry()
    graph = load_template("small_cnn", registry)
    for node in graph.nodes():
        if node.params.get("units") == 10:
            node.params["units"] = 2
    return build_plan(graph, registry, "photos")


def test_an_image_export_states_how_to_prepare_a_file_and_its_snippet_does(
    tmp_path, keras_session
) -> None:
    import tensorflow as tf

    from tests.nodes.datasets.test_images import write_pngs

    # RGB files of other sizes into a 28x28 grayscale model: the conversion and resize matter.
    write_pngs(tf, tmp_path / "photos", {"chat": 2, "chien": 2}, size=(9, 7), channels=3)
    plan = _two_class_cnn()
    source = open_source({"kind": "images", "path": str(tmp_path / "photos")})
    info = source.check(plan)
    contract = source.input_contract(plan, info)
    exporter = default_exporters()["keras"]
    out = tmp_path / "out"
    out.mkdir()
    ctx = ExportContext(
        model=model_for(plan),
        plan=plan,
        out_dir=out,
        options=exporter.resolve_options({}),
        sample=synthetic(plan, 2),
        class_names=contract.class_names,
        model_name=plan.name,
        contract=contract,
    )
    result = run_export(exporter, ctx)
    assert result.passed
    stated = json.loads((out / "input.json").read_text(encoding="utf-8"))
    assert InputContract.from_json(stated) == contract and stated["image"]["resize"] == "bilinear"
    assert (out / "labels.txt").read_text(encoding="utf-8") == "chat\nchien\n"
    readme = (out / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Input\n", 1)[1]
    assert "- Images: grayscale, 28x28 (height x width), channels last, pixel values 0 to 255" in (
        section
    )
    assert "bilinear interpolation" in section and "convert to grayscale first" in section
    code = re.search(r"```python\n(import tensorflow as tf\n.*?)\n```", section, re.S)
    assert code, section
    photo = sorted((tmp_path / "photos" / "chien").iterdir())[0]
    scope: dict = {}
    exec(code.group(1).replace('"photo.jpg"', repr(str(photo))), scope)  # noqa: S102
    trained, _ = source.decoder(plan, info)(tf.constant(str(photo)), 0)
    assert scope["batch"].shape == (1, 28, 28, 1)
    np.testing.assert_array_equal(scope["batch"].numpy()[0], trained.numpy())


def test_without_data_the_export_states_the_plans_arrays(tmp_path, keras_session) -> None:
    classes = ["a", "b", "c"]
    result = run_exporter_case("keras", "mlp_classifier", tmp_path, samples=2, class_names=classes)
    assert result.passed
    stated = InputContract.from_json(json.loads((tmp_path / "input.json").read_text()))
    assert stated.kind == "array" and stated.class_names == classes
    assert [(i.name, i.shape, i.dtype) for i in stated.inputs] == [("features", [20], "float32")]
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "- Output classes: one score per class, in order: a, b, c" in readme
