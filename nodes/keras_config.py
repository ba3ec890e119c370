"""Reading a Keras model config as data: the tensors each layer call takes, and a layer's
config as the params of its node spec (``read_params``: one mapping for every spec, with
per-class ``READERS`` only where Keras stores a value differently). Pure Python; nothing is
deserialised or run. ``nodes.keras_import`` builds the graph from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from layerloom.nodes.spec import NodeSpec

TensorRef = tuple[str, int, int]  # (layer path, call index, output index)
# Config keys that say nothing about what the layer computes once its weights are loaded.
IGNORED = {"name", "trainable", "dtype", "build_config", "seed", "registered_name", "module"}
IGNORED_SUFFIXES = ("_initializer",)
# Config keys that only shape training (a penalty, a clamp): dropped, and the report says so.
TRAINING_ONLY_SUFFIXES = ("_regularizer", "_constraint")
# Options whose value here is what every node computes anyway.
NEUTRAL: dict[str, tuple[Any, ...]] = {
    "data_format": ("channels_last", None),
    "noise_shape": (None,),
    "quantization_config": (None,),
    "lora_rank": (None, 0),
    "lora_alpha": (None,),
    "rms_scaling": (False,),
    "synchronized": (False,),
    "renorm": (False,),
    "renorm_clipping": (None,),
    "renorm_momentum": (0.99, None),
    "sparse": (False,),
    "ragged": (False,),
    "optional": (False,),
    "interpolation": ("bilinear", "nearest"),  # UpSampling2D/Resizing read it as a param first
}


class Unmappable(Exception):
    """This layer cannot be a node of its class's spec; the message says why (for the report)."""


def _refs(value: Any, out: list[tuple[TensorRef, Any]]) -> None:
    """Keras 3 tensors in call arguments, in order, with their recorded shapes."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            conf = value.get("config", {})
            name, call, index = conf["keras_history"]
            out.append(((name, int(call), int(index)), conf.get("shape")))
        else:
            for item in value.values():
                _refs(item, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _refs(item, out)


def call_inputs(inbound: Any) -> tuple[list[TensorRef], list[Any], dict[str, Any]]:
    """The tensors one call of a layer took (Keras 3 or Keras 2 form), their shapes when recorded,
    and its other keyword arguments."""
    found: list[tuple[TensorRef, Any]] = []
    extra: dict[str, Any] = {}
    if isinstance(inbound, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        _refs(inbound.get("args", []), found)
        for key, value in (inbound.get("kwargs") or {}).items():
            before = len(found)
            _refs(value, found)
            if len(found) == before:
                extra[key] = value
    else:  # Keras 2: [[layer, call, index, kwargs], ...]
        for item in inbound:
            found.append(((item[0], int(item[1]), int(item[2])), None))
            extra.update(item[3] if len(item) > 3 and isinstance(item[3], dict) else {})
    return [ref for ref, _ in found], [shape for _, shape in found], extra


def _numbers(inbound: Any) -> list[float]:
    """The plain numbers among a call's positional arguments (``x + 3.0``)."""
    args = inbound.get("args", []) if isinstance(inbound, dict) else []
    return [float(a) for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]


def scalar_operation(class_name: str, inbound: Any) -> dict[str, float] | None:
    """``x + c``, ``x - c``, ``c - x`` and ``x * c`` are a Rescaling (x * scale + offset), exactly;
    None for anything else."""
    args = inbound.get("args", []) if isinstance(inbound, dict) else []
    numbers = _numbers(inbound)
    if len(args) != 2 or len(numbers) != 1:
        return None
    (c,) = numbers
    tensor_first = not isinstance(args[0], (int, float))
    if class_name == "Add":
        return {"scale": 1.0, "offset": c}
    if class_name == "Multiply":
        return {"scale": c, "offset": 0.0}
    if class_name == "Subtract":
        return {"scale": 1.0, "offset": -c} if tensor_first else {"scale": -1.0, "offset": c}
    return None


def ref_list(value: Any) -> list[TensorRef]:
    """``input_layers``/``output_layers``: one [name, call, index] or a list of them."""
    if not value:
        return []
    if isinstance(value[0], str):
        value = [value]
    return [(str(v[0]), int(v[1]), int(v[2])) for v in value]


def _plain(value: Any) -> Any:
    """A config value as a param takes it: a serialised Keras function by its name."""
    if isinstance(value, dict) and isinstance(value.get("config"), str):
        return value["config"]  # {"module": "keras.activations", "class_name": "function", ...}
    return value


def _floats(value: Any) -> list[float] | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return [float(value)]
    flat: list[float] = []
    for item in value:
        flat.extend(_floats(item) or [])
    return flat


def _edges(key: str) -> Callable[[dict[str, Any], list[Any]], dict[str, Any]]:
    """ZeroPadding2D/Cropping2D: an int, (rows, cols) or ((top, bottom), (left, right))."""

    def read(conf: dict[str, Any], shapes: list[Any]) -> dict[str, Any]:
        value = conf[key]
        if isinstance(value, int):
            return {key: (value,) * 4}
        rows, cols = value
        rows = (rows, rows) if isinstance(rows, int) else tuple(rows)
        cols = (cols, cols) if isinstance(cols, int) else tuple(cols)
        return {key: (*rows, *cols)}

    return read


def _last_axis(conf: dict[str, Any], shapes: list[Any]) -> dict[str, Any]:
    """BatchNormalization/LayerNormalization: their nodes normalise the last axis only."""
    axis = conf.get("axis", -1)
    axes = axis if isinstance(axis, list) else [axis]
    rank = len(shapes[0]) if shapes and shapes[0] is not None else None
    if axes not in ([-1], [rank and rank - 1]):
        raise Unmappable(f"it normalises axis {axis}; the node normalises the last axis only")
    return {"axis": None}


def _statistics(conf: dict[str, Any], shapes: list[Any]) -> dict[str, Any]:
    axis = conf.get("axis", -1)
    return {
        "axis": tuple(axis) if isinstance(axis, list) else (axis,) if axis is not None else None,
        "mean": _floats(conf.get("mean")),
        "variance": _floats(conf.get("variance")),
    }


def _scalar_rescaling(conf: dict[str, Any], shapes: list[Any]) -> dict[str, Any]:
    for key in ("scale", "offset"):
        if not isinstance(conf.get(key), (int, float)):
            raise Unmappable(f"its {key} is not one number ({conf.get(key)!r})")
    return {}


def _attention_axes(conf: dict[str, Any], shapes: list[Any]) -> dict[str, Any]:
    """Keras records the axes it attends over once built; every axis between batch and features
    is its default, and the node's."""
    axes = conf.get("attention_axes")
    rank = len(shapes[0]) if shapes and shapes[0] is not None else None
    if axes is not None and (rank is None or list(axes) != list(range(1, rank - 1))):
        raise Unmappable(f"it attends over axes {axes}; the node attends over all but the last")
    return {"attention_axes": None}


# Per-class readers: config values Keras stores differently from the spec's param (the key
# None in a reader's answer marks a config key as consumed without a param).
READERS: dict[str, Callable[[dict[str, Any], list[Any]], dict[str, Any]]] = {
    "ZeroPadding2D": _edges("padding"),
    "Cropping2D": _edges("cropping"),
    "BatchNormalization": _last_axis,
    "LayerNormalization": _last_axis,
    "Normalization": _statistics,
    "Rescaling": _scalar_rescaling,
    "MultiHeadAttention": _attention_axes,
}


def _neutral(key: str, value: Any) -> bool:
    if key in IGNORED or key.endswith(IGNORED_SUFFIXES):
        return True
    return key in NEUTRAL and value in NEUTRAL[key]


def read_params(
    spec: NodeSpec,
    class_name: str,
    conf: dict[str, Any],
    shapes: list[Any],
    defaults: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The node params for a layer's config, and the training-only settings dropped on the way.
    Unmappable when the config holds an option the spec has no param for, with a value other
    than Keras' own default for it (``defaults``, read from the class where Keras is loaded): the
    node's layer is built without it, so it takes that default."""
    defaults = defaults or {}
    read = READERS.get(class_name)
    values = {key: _plain(value) for key, value in conf.items()}
    values.update(read(conf, shapes) if read else {})
    declared = {p.name for p in spec.params}
    params = {key: values[key] for key in declared if key in values}
    dropped: list[str] = []
    for key, value in values.items():
        if key in declared or _neutral(key, value) or (read and key in read(conf, shapes)):
            continue
        if key in defaults and defaults[key] == value:
            continue
        if key.endswith(TRAINING_ONLY_SUFFIXES):
            if value is not None:
                dropped.append(key)
            continue
        raise Unmappable(f"its option {key}={value!r} has no equivalent in the node")
    problems = spec.check_params(params)
    if problems:
        raise Unmappable("; ".join(problems))
    return params, dropped
