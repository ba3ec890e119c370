"""Explain: Grad-CAM points at what decides the class, integrated gradients rank the deciding
columns first. Both on small tasks built here where the answer is known, trained in seconds."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.backends.keras_explain import (
    class_scores,
    grad_cam,
    integrated_gradients,
    overlay,
    resize_map,
)

SIDE, MARK = 32, 5
CROSS = np.maximum(np.eye(MARK, dtype=np.float32), np.eye(MARK, dtype=np.float32)[::-1])
RING = np.ones((MARK, MARK), dtype=np.float32)
RING[1:-1, 1:-1] = 0.0


def marked_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dim noise with one bright mark at a random place: a cross, X (class 0) or a ring (class 1).
    Returns images (n, 32, 32, 1), labels, and each mark's top-left corner."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 0.3, size=(count, SIDE, SIDE, 1)).astype(np.float32)
    labels = rng.integers(0, 2, size=count)
    corners = rng.integers(0, SIDE - MARK + 1, size=(count, 2))
    for image, label, (top, left) in zip(images, labels, corners, strict=True):
        mark = RING if label else CROSS
        window = image[top : top + MARK, left : left + MARK, 0]
        image[top : top + MARK, left : left + MARK, 0] = np.maximum(window, mark)
    return images, labels, corners


@pytest.mark.keras
def test_grad_cam_peak_falls_on_the_mark(keras_session):
    keras = keras_session
    keras.utils.set_random_seed(3)
    x, y, _ = marked_images(800, seed=1)
    inputs = keras.Input((SIDE, SIDE, 1), name="image")
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_1")(inputs)
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_2")(h)
    h = keras.layers.GlobalMaxPooling2D(name="gmp")(h)
    outputs = keras.layers.Dense(2, activation="softmax", name="classes")(h)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=4, batch_size=32, verbose=0)

    test_x, test_y, corners = marked_images(60, seed=2)
    predicted = class_scores(model.predict(test_x, verbose=0), None)
    assert (predicted == test_y).mean() >= 0.9  # it learnt the task the map must explain
    cams = grad_cam(model, "conv_2", [test_x], predicted, "classes")
    hits = 0
    for cam, (top, left) in zip(cams, corners, strict=True):
        heat = resize_map(cam, SIDE, SIDE)
        row, column = np.unravel_index(int(np.argmax(heat)), heat.shape)
        # the pointing game: the peak inside the mark, give or take one pixel of resampling
        hits += top - 1 <= row <= top + MARK and left - 1 <= column <= left + MARK
    assert hits / len(cams) >= 0.8
    picture = overlay((test_x[0] * 255).astype(np.uint8), resize_map(cams[0], SIDE, SIDE))
    assert picture.shape == (SIDE, SIDE, 3) and picture.dtype == np.uint8


@pytest.mark.keras
def test_integrated_gradients_rank_the_deciding_columns_first(keras_session):
    keras = keras_session
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1500, 6)).astype(np.float32)
    y = (x[:, 1] - x[:, 4] > 0).astype(np.int64)  # only columns 1 and 4 decide
    inputs = keras.Input((6,), name="features")
    h = keras.layers.Dense(16, activation="relu")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)

    rows = x[:40]
    classes = class_scores(model.predict(rows, verbose=0), None)
    baseline = [x.mean(axis=0)]
    (found,) = integrated_gradients(model, [rows], baseline, classes)
    ranking = np.argsort(-np.abs(found).mean(axis=0))
    assert set(ranking[:2]) == {1, 4}
    # completeness: the attributions add up to f(x) - f(baseline) for the explained class
    start = model.predict(np.repeat(baseline[0][None], len(rows), axis=0), verbose=0)
    end = model.predict(rows, verbose=0)
    picked = np.arange(len(rows))
    difference = end[picked, classes] - start[picked, classes]
    assert np.allclose(found.sum(axis=1), difference, atol=0.02)
