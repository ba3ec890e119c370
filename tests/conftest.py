"""Shared fixtures. TensorFlow is imported once per test session, and only by tests that need it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No warm TensorFlow worker per opened document (each imports TensorFlow): its tests turn it on.
os.environ.setdefault("LAYERLOOM_WARM_WORKER", "0")


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


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A real OpenSSH server on 127.0.0.1 for the remote-training tests (``tests/backends/
    sshd.py``); a test that stops it to drop connections starts it again."""
    from tests.backends.sshd import SSHServer

    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.stop()
