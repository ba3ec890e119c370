"""Loading Keras once (TensorFlow backend, or ``KERAS_BACKEND``'s: the worker trains on JAX when
it says ``jax``), with TensorFlow's start-up chatter kept off the terminal.

TensorFlow's C++ runtime writes CUDA probes and CPU-feature notes straight to file descriptor 2
before any Python logging is configured, and no environment variable silences all of it. A user of
``layerloom summary`` should see the summary, so that output goes to the log instead.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from typing import Any

log = logging.getLogger("layerloom.tensorflow")


def load_keras() -> Any:
    if "keras" in sys.modules and "tensorflow" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            import keras
            import tensorflow as tf

            if keras.backend.backend() != "tensorflow":
                # JAX (or another backend) computes; TensorFlow only feeds tf.data and must not
                # take the GPUs' memory.
                tf.config.set_visible_devices([], "GPU")
            tf.config.list_physical_devices()  # device discovery prints its CUDA probes now
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        chatter = sink.read().decode("utf-8", errors="replace").strip()
    if chatter:
        log.debug("TensorFlow start-up output:\n%s", chatter)
    return keras
