"""The shared spec harness: one function checks a spec against the real Keras layer.

For a valid case the pure shape rule must equal the shape Keras produces when the real layer is
called on symbolic inputs, and the pure parameter count must equal ``layer.count_params()``. For an
``error`` case both the pure rule (ShapeError) and Keras must refuse the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from layerloom.nodes.errors import ShapeError
from layerloom.nodes.keras_build import call_layer, make_layer
from layerloom.nodes.spec import NodeSpec


@dataclass(frozen=True)
class Case:
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list[tuple] = field(default_factory=list)  # input shapes without batch
    ports: list[str] | None = None  # port per input; default: the spec's ports in order
    dtype: str = "float32"  # dtype of the symbolic inputs (int32 for Embedding)
    error: bool = False  # both the pure rule and Keras must refuse this input


def _ports(spec: NodeSpec, case: Case) -> list[str]:
    if case.ports is not None:
        return case.ports
    return spec.input_ports(len(case.inputs))[: len(case.inputs)]


def _keras_output(spec: NodeSpec, case: Case, params: dict[str, Any]) -> tuple[tuple, int]:
    import keras

    tensors = [keras.Input(shape=tuple(s), dtype=case.dtype) for s in case.inputs]
    layer = make_layer(spec.keras_class, spec.to_keras_config(params), "layer_under_test")
    output = call_layer(layer, spec.call, list(zip(_ports(spec, case), tensors, strict=True)))
    return tuple(output.shape[1:]), layer.count_params()


def run_spec_case(spec: NodeSpec, case: Case) -> None:
    params = spec.normalize(case.params)
    assert spec.check_params(params) == [], f"case params are invalid for {spec.type_id}"
    shapes = [tuple(s) for s in case.inputs]

    if not spec.keras_class and not spec.is_input:
        # An imported placeholder: no Keras layer exists, its rule repeats what was recorded.
        if case.error:
            with pytest.raises(ShapeError):
                spec.infer(params, shapes)
        else:
            assert tuple(spec.infer(params, shapes)) == tuple(params["output_shape"])
            assert spec.count_params(params, shapes) == params["parameters"]
        return

    if case.error:
        with pytest.raises(ShapeError):
            spec.infer(params, shapes)
        with pytest.raises(Exception):  # noqa: B017 - any refusal by Keras counts
            _keras_output(spec, case, params)
        return

    ours = tuple(spec.infer(params, shapes))
    if spec.is_input:
        import keras

        assert tuple(keras.Input(shape=ours).shape[1:]) == ours
        return
    keras_shape, keras_count = _keras_output(spec, case, params)
    assert ours == keras_shape, f"{spec.label}: shape rule says {ours}, Keras says {keras_shape}"
    ours_count = spec.count_params(params, shapes)
    assert ours_count == keras_count, (
        f"{spec.label}: counts {ours_count} parameters, Keras counts {keras_count}"
    )
