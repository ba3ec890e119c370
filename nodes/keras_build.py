"""Stage two of compile: a BuildPlan becomes a real ``keras.Model`` (functional API).

Keras is imported inside the functions, so importing this module stays free. Node names become layer
names, which is how weights, metrics and exported tensors map back to nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan


def make_layer(class_name: str, config: dict[str, Any], name: str) -> Any:
    """Instantiate ``keras.layers.<class_name>`` from a (partial) config, nested layers included.

    A dotted ``class_name`` names a Keras class outside ``keras.layers`` by its module (ConvNeXt's
    ``keras.src.applications.convnext.LayerScale``); Keras resolves it only within its own package.
    """
    keras = load_keras()

    module, _, short = class_name.rpartition(".")
    return keras.layers.deserialize(
        {
            "module": module or "keras.layers",
            "class_name": short,
            "config": {**config, "name": name},
        }
    )


def _call_single(layer: Any, inputs: list[tuple[str, Any]]) -> Any:
    return layer(inputs[0][1])


def _call_list(layer: Any, inputs: list[tuple[str, Any]]) -> Any:
    return layer([tensor for _, tensor in inputs])


def _call_kwargs(layer: Any, inputs: list[tuple[str, Any]]) -> Any:
    return layer(**dict(inputs))


CALL_STYLES: dict[str, Callable[[Any, list[tuple[str, Any]]], Any]] = {
    "single": _call_single,
    "list": _call_list,
    "kwargs": _call_kwargs,
}


def call_layer(layer: Any, call: str, inputs: list[tuple[str, Any]]) -> Any:
    """Apply ``layer`` to ``(port, tensor)`` pairs in the way its spec declares."""
    return CALL_STYLES[call](layer, inputs)


def build_model(plan: BuildPlan) -> Any:
    keras = load_keras()

    tensors: dict[str, Any] = {}
    for spec_input in plan.inputs:
        tensors[spec_input.name] = keras.Input(
            shape=tuple(spec_input.shape), dtype=spec_input.dtype, name=spec_input.name
        )
    for step in plan.layers:
        layer = make_layer(step.class_name, step.config, step.name)
        if not step.trainable:
            # Frozen: no trainable weights, so the optimizer never touches them; a frozen
            # BatchNormalization also normalises with its moving statistics (Keras 3's rule).
            layer.trainable = False
        tensors[step.name] = call_layer(
            layer, step.call, [(port, tensors[source]) for port, source in step.inputs]
        )
    return keras.Model(
        inputs=[tensors[i.name] for i in plan.inputs],
        outputs=[tensors[name] for name in plan.outputs],
        name=plan.name,
    )
