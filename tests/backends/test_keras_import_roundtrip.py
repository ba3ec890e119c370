"""Import -> compile round trips: the same layers, parameters and predictions as the source model.

Ten Keras applications (weights=None, the smallest inputs each allows) and small models of our own
(several inputs and outputs, a shared layer, a nested model) go through ``load_source`` ->
``nodes.keras_import.convert`` -> compile -> the file's weights, in this process.
"""

from __future__ import annotations

import pytest

from layerloom.backends.keras_import import convert_loaded, load_source, parity, rebuild

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
    converted = convert_loaded(loaded)
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


def test_sequential_and_attention_round_trip(keras_session, tmp_path) -> None:
    import keras

    sequential = keras.Sequential(
        [
            keras.Input((10, 6), name="steps"),
            keras.layers.Conv1D(8, 3, padding="same", activation="gelu", name="conv"),
            keras.layers.LayerNormalization(epsilon=1e-6, name="norm"),
            keras.layers.LSTM(5, name="lstm"),
            keras.layers.Dense(2, name="out"),
        ],
        name="seq",
    )
    sequential.save(tmp_path / "seq.keras")
    loaded = load_source(str(tmp_path / "seq.keras"))
    converted, model = _round_trip(loaded)
    assert model.count_params() == sequential.count_params()
    assert parity(loaded.model, model, converted) <= 1e-5

    tokens = keras.Input((6, 8), name="tokens")
    memory = keras.Input((4, 8), name="memory")
    attended = keras.layers.MultiHeadAttention(2, 4, name="attention")(tokens, memory)
    attention = keras.Model([tokens, memory], attended)
    attention.save(tmp_path / "attention.keras")
    loaded = load_source(str(tmp_path / "attention.keras"))
    converted, model = _round_trip(loaded)
    assert model.count_params() == attention.count_params()
    assert parity(loaded.model, model, converted) <= 1e-5
