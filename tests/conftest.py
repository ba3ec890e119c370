"""Shared fixtures. TensorFlow is imported once per test session, and only by tests that need it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def keras_session():
    """Keras (TensorFlow backend), imported once for the whole run; seeds fixed for repeatability."""
    import keras

    keras.utils.set_random_seed(1234)
    return keras


@pytest.fixture(scope="session")
def registry():
    from layerloom.nodes.registry import default_registry

    return default_registry()
