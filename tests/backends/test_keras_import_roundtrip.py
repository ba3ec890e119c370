"""Import -> compile round trips: the same layers, parameters and predictions as the source model.

Ten Keras applications (weights=None, the smallest inputs each allows) and small models of our own
(several inputs and outputs, a shared layer, a nested model) go through ``load_source`` ->
``nodes.keras_import.convert`` -> compile -> the file's weights, in this process.
"""

from __future__ import annotations

import pytest

from layerloom.backends.keras_import import load_source, parity, rebuild
from layerloom.nodes.keras_import import convert
from layerloom.nodes.registry import default_registry

pytestmark = pytest.mark.keras

APPLICATIONS = {
    "MobileNetV2": (32, 32, 3),
    "MobileNetV3Small": (32, 32, 3),
    "ResNet50": (32, 32, 3),
    "DenseNet121": (32, 32, 3),
    "EfficientNetB0": (32, 32, 3),
    "InceptionV3": (75, 75, 3),
    "Xception": (71, 71, 3),
    "VGG16": (32, 32, 3),
    "NASNetMobile": (32, 32, 3),
    "ConvNeXtTiny": (32, 32, 3),
}


def _leaf_layers(model) -> int:
    """Layers and operations (``x + y``), nested models counted by their own, inputs left out."""
    count = 0
    sequential = type(model).__name__ == "Sequential"
    for operation in model.layers if sequential else model.operations:
        if type(operation).__name__ in ("Functional", "Sequential"):
            count += _leaf_layers(operation)
        elif type(operation).__name__ != "InputLayer":
            count += 1
    return count


def _round_trip(loaded):
    converted = convert(loaded.config, default_registry(), loaded.shapes, loaded.counts)
    assert converted.placeholders == []
    model = rebuild(loaded, converted)
    return converted, model


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_application_round_trip(keras_session, name):
    loaded = load_source(
        f"keras.applications.{name}", {"input_shape": APPLICATIONS[name], "classes": 10}
    )
    converted, model = _round_trip(loaded)
    assert _leaf_layers(model) == _leaf_layers(loaded.model)
    assert model.count_params() == loaded.model.count_params()
    assert parity(loaded.model, model, converted) <= 1e-5
