"""The TF.js layers-model format, written directly: ``model.json`` plus float32 weight shards.

tfjs-layers 4.22 reads Keras 2 style JSON, so Keras 3 configs are translated here: serialized
objects lose ``module``/``registered_name``, dtype policies become plain dtype strings, inbound
nodes become nested ``[layer, node, tensor, kwargs]`` lists and weights are named
``layer_name/weight_name``. Which tfjs layers each Keras layer becomes is ``tfjs_layers``' job;
this module only serialises what it returns. NumPy only: the Keras model is read by the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SHARD_BYTES = 4 * 1024 * 1024  # tfjs' own converter splits weights into 4 MB files
KERAS_VERSION = "2.15.0"  # what the topology claims to be: tfjs-layers parses Keras 2 JSON
# Keras 3 initializer class names that tfjs spells differently; unknown ones become the default.
INITIALIZER_NAMES = {"LecunNormal": "LeCunNormal", "LecunUniform": "LeCunUniform"}
TFJS_INITIALIZERS = {
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LeCunNormal",
    "LeCunUniform",
    "Orthogonal",
    "Identity",
}
TFJS_CONSTRAINTS = {"MaxNorm", "UnitNorm", "NonNeg", "MinMaxNorm"}
# Keys Keras 3 adds that mean nothing to tfjs (the rest are tolerated and ignored by it).
DROPPED_KEYS = {"build_config", "compile_config", "quantization_config", "registered_name"}


@dataclass
class JsLayer:
    """One layer of the written topology. Its output is the tensor that ``name`` stands for."""

    name: str
    class_name: str
    config: dict[str, Any]  # Keras 2 style, without "name"
    inbound: list[str]  # layers whose first output feeds this one, in call order
    weights: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (short name, value)


def keras2(value: Any, key: str = "") -> Any:
    """A Keras 3 config value in the Keras 2 form tfjs-layers deserialises."""
    if isinstance(value, dict):
        if "class_name" in value and "config" in value:
            return _serialized_object(value, key)
        return {k: keras2(v, k) for k, v in value.items() if k not in DROPPED_KEYS}
    if isinstance(value, (list, tuple)):
        return [keras2(item, key) for item in value]
    return value


def _serialized_object(value: dict[str, Any], key: str) -> Any:
    class_name, config = value["class_name"], value.get("config") or {}
    if "DTypePolicy" in class_name:
        # Mixed-precision policies compute in float16 but keep float32 variables; tfjs has no
        # policies and runs everything in float32.
        name = str(config.get("name", "float32"))
        return "float32" if name.startswith("mixed_") else name
    if key.endswith("initializer"):
        class_name = INITIALIZER_NAMES.get(class_name, class_name)
        if class_name not in TFJS_INITIALIZERS:
            return None  # weights are loaded anyway; the initializer only has to parse
        config = {k: v for k, v in config.items() if k not in ("input_axes", "output_axes")}
    elif key.endswith("regularizer"):
        # tfjs has one regularizer class; Keras 3's L1, L2 and L1L2 all map onto it.
        if class_name not in ("L1", "L2", "L1L2"):
            return None
        config = {"l1": float(config.get("l1", 0.0)), "l2": float(config.get("l2", 0.0))}
        class_name = "L1L2"
    elif key.endswith("constraint") and class_name not in TFJS_CONSTRAINTS:
        return None
    return {"class_name": class_name, "config": keras2(config)}


def layer_json(layer: JsLayer) -> dict[str, Any]:
    inbound = [[[source, 0, 0, {}] for source in layer.inbound]] if layer.inbound else []
    return {
        "class_name": layer.class_name,
        "config": {**layer.config, "name": layer.name},
        "name": layer.name,
        "inbound_nodes": inbound,
    }


def input_layer(name: str, shape: list[int | None], dtype: str) -> JsLayer:
    # tfjs has no int64 tensors; token ids fit int32.
    dtype = "int32" if "int" in dtype else "float32"
    config = {"batch_input_shape": [None, *shape], "dtype": dtype, "sparse": False}
    return JsLayer(name, "InputLayer", config, [])


def topology(
    name: str, layers: list[JsLayer], inputs: list[str], outputs: list[str]
) -> dict[str, Any]:
    """The ``modelTopology`` object: a functional Keras 2 model config."""
    return {
        "class_name": "Model",
        "config": {
            "name": name,
            "layers": [layer_json(layer) for layer in layers],
            # Nested [name, node, tensor] lists even for one tensor: tfjs rejects the flat form.
            "input_layers": [[n, 0, 0] for n in inputs],
            "output_layers": [[n, 0, 0] for n in outputs],
        },
        "keras_version": KERAS_VERSION,
        "backend": "tensorflow",
    }


def weight_entries(layers: list[JsLayer]) -> list[tuple[str, np.ndarray]]:
    """Every weight as (``layer_name/weight_name``, float32 or int32 array), in layer order."""
    out = []
    for layer in layers:
        for short, value in layer.weights:
            array = np.asarray(value)
            array = array.astype("<i4" if array.dtype.kind in "iu" else "<f4", copy=False)
            out.append((f"{layer.name}/{short}", np.ascontiguousarray(array)))
    return out


def write_model(
    out_dir: Path,
    model_topology: dict[str, Any],
    weights: list[tuple[str, np.ndarray]],
    generated_by: str,
) -> list[Path]:
    """Write ``model.json`` and ``groupN-shardKofM.bin`` files; model.json first in the list."""
    blob = b"".join(array.tobytes() for _, array in weights)
    count = max(1, -(-len(blob) // SHARD_BYTES))
    paths = [f"group1-shard{i + 1}of{count}.bin" for i in range(count)]
    files = [out_dir / "model.json"]
    for index, path in enumerate(paths):
        (out_dir / path).write_bytes(blob[index * SHARD_BYTES : (index + 1) * SHARD_BYTES])
        files.append(out_dir / path)
    specs = [
        {
            "name": name,
            "shape": list(array.shape),
            "dtype": "int32" if array.dtype.kind == "i" else "float32",
        }
        for name, array in weights
    ]
    document = {
        "format": "layers-model",
        "generatedBy": generated_by,
        "convertedBy": "Layerloom",
        "modelTopology": model_topology,
        "weightsManifest": [{"paths": paths, "weights": specs}],
    }
    files[0].write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return files


def read_model(model_dir: Path) -> tuple[dict[str, Any], bytes]:
    """model.json and its shards concatenated: what ``tf.io.fromMemory`` takes."""
    document = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    data = b"".join(
        (model_dir / path).read_bytes()
        for group in document["weightsManifest"]
        for path in group["paths"]
    )
    return document, data
