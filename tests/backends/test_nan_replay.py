"""The replay of a diverged step on hand-set weights (real Keras, in process): it names the node
whose output first became non-finite, the loss when only the loss overflowed, and the node whose
gradient overflowed on the way back when every value of the forward pass was finite; and the step
the stash keeps is the one before the weights were updated."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.nodes.compile import build_plan
from tests.backends.test_health import chain

pytestmark = pytest.mark.keras


def stashed(registry, weights: dict, x: np.ndarray, y: np.ndarray):
    """features(2) -> a (Dense 1) -> value (Dense 1), compiled with MSE; its stash holding the
    batch (x, y) and the given kernels (biases zero) as the weights from before the step."""
    import tensorflow as tf

    from layerloom.backends.nan_replay import StepStash
    from layerloom.nodes.keras_build import build_model
    from layerloom.nodes.keras_runtime import load_keras

    keras = load_keras()
    graph = chain(registry, ("Dense", "a", {"units": 1}), ("Dense", "value", {"units": 1}), width=2)
    plan = build_plan(graph, registry, "m")
    model = build_model(plan)
    model.compile(optimizer="sgd", loss="mean_squared_error")
    for name, kernel in weights.items():
        layer = model.get_layer(name)
        layer.set_weights([np.asarray(kernel, np.float32), np.zeros(1, np.float32)])
    spec = (tf.TensorSpec((None, 2), tf.float32), tf.TensorSpec((None, 1), tf.float32))
    stash = StepStash(model, spec)
    for slot, tensor in zip(stash.batch, (x, y), strict=True):
        slot.assign(tf.constant(tensor, tf.float32))
    for copy, weight in zip(stash.before, stash.weights, strict=True):
        copy.assign(weight)
    for layer in ("a", "value"):  # the step's update made the live weights NaN
        model.get_layer(layer).set_weights([np.full((2 if layer == "a" else 1, 1), np.nan, np.float32),
                                            np.zeros(1, np.float32)])  # fmt: skip
    return keras, model, plan, stash


def replay(keras, model, plan, stash):
    from layerloom.backends.nan_replay import replay as run

    return run(keras, model, plan, stash, step=7)


def test_the_output_that_first_overflows_is_named_with_its_rows(registry, keras_session) -> None:
    x = np.ones((4, 2), np.float32)
    x[2] = 3e38  # finite; twice it in `a` is not
    found = replay(*stashed(registry, {"a": [[1.0], [1.0]], "value": [[1.0]]}, x, np.zeros((4, 1))))
    assert found == {"node": "a", "where": "output", "step": 7, "rows": [2]}


def test_a_loss_that_overflows_on_finite_outputs_is_named_as_the_loss(
    registry, keras_session
) -> None:
    x = np.full((4, 2), 1e19, np.float32)  # value = 2e19: finite; its square is not
    found = replay(*stashed(registry, {"a": [[1.0], [0.0]], "value": [[2.0]]}, x, np.zeros((4, 1))))
    assert found == {"node": "value", "where": "loss", "step": 7, "rows": []}


def test_a_gradient_that_overflows_on_the_way_back_names_its_node(registry, keras_session) -> None:
    """a = 1e21 and value = 1e18 are finite, so is the loss (1e36); value's kernel gradient,
    the sum over the batch of a times dL/dvalue (4 x 1e21 x 5e17), is not."""
    x = np.full((4, 2), 1e21, np.float32)
    weights = {"a": [[1.0], [0.0]], "value": [[1e-3]]}
    found = replay(*stashed(registry, weights, x, np.zeros((4, 1))))
    assert found == {"node": "value", "where": "gradient", "step": 7, "rows": []}


def test_the_stash_keeps_the_batch_and_the_weights_from_before_the_step(
    registry, keras_session
) -> None:
    import tensorflow as tf

    keras, model, plan, stash = stashed(
        registry, {"a": [[1.0], [1.0]], "value": [[1.0]]}, np.ones((4, 2)), np.zeros((4, 1))
    )
    model.get_layer("a").set_weights([np.full((2, 1), 0.5, np.float32), np.zeros(1, np.float32)])
    model.get_layer("value").set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    data = tf.data.Dataset.from_tensor_slices((x, np.ones((3, 1), np.float32))).batch(3)
    model.fit(data, epochs=1, verbose=0)  # one step through the wrapped train_step
    batch_x, _ = stash.restore()
    np.testing.assert_array_equal(batch_x.numpy(), x)
    np.testing.assert_array_equal(model.get_layer("a").get_weights()[0], np.full((2, 1), 0.5))
