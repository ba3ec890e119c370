"""Every metric the settings offer trains and reports under the name the user chose."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.nodes.training import METRICS

pytestmark = pytest.mark.keras


@pytest.mark.parametrize("name", METRICS)
def test_every_offered_metric_trains_under_its_own_name(keras_session, name) -> None:
    from layerloom.backends.keras_common import keras_metric

    keras = keras_session
    binary = name in ("accuracy", "auc", "precision", "recall")
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid" if binary else None)]
    )
    loss = "binary_crossentropy" if binary else "mse"
    model.compile("adam", loss, metrics=[keras_metric(keras, name)])
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 16) if binary else rng.random(16)
    history = model.fit(rng.random((16, 3)), y, epochs=1, verbose=0).history
    assert name in history and np.isfinite(history[name][0])
