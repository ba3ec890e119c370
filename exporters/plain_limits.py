"""The targets that take every node of the catalog: they run the model in TensorFlow or Keras
itself (TF Serving, the .keras file, the Python script). Declared all the same, so that the editor
and messages name them, and so that ``tests/exporters/test_capabilities.py`` holds them to it."""

from __future__ import annotations

from layerloom.nodes.export_capabilities import LimitKey, TargetLimits

SERVING = TargetLimits("serving", (LimitKey("serving", "TF Serving", "SRV"),), rank=3)
KERAS = TargetLimits("keras", (LimitKey("keras", "Keras", "KER"),), rank=5)
PYTHON = TargetLimits("python", (LimitKey("python", "Python script", "PY"),), rank=6)
