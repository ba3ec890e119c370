"""The ``import`` job: a Keras model file or application becomes a graph and a starting checkpoint.

It runs in the worker (a child process: TensorFlow's memory and any native crash stay out of the
CLI and the GUI). Loading never runs code from the file: a ``.keras`` file goes through
``keras.saving.load_model(safe_mode=True, compile=False)``; when Keras refuses it (a ``Lambda``, a
class it does not know) its ``config.json`` and ``model.weights.h5`` are read from the zip as data;
a legacy ``.h5`` file is always read with h5py (``model_config`` and the weights by layer name).
``nodes.keras_import`` turns the config into a graph; when every layer mapped onto a node, the
graph is compiled, given the file's weights layer by layer, held against the loaded model on a
random batch (``max_abs_error``) and saved as ``imported.weights.h5`` (plus an empty optimizer
state) in the job folder. The ``result`` event's ``imported`` carries the graph and the report.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.backends.protocol import EventWriter, Job, checkpoint_files
from layerloom.nodes.compile import build_plan
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.keras_import import Converted, convert
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.registry import default_registry
from layerloom.nodes.serialize import graph_to_dict

APPLICATIONS = "keras.applications."
WEIGHTS_STEM = "imported"
MODEL_CLASSES = ("Functional", "Sequential")


@dataclass
class Loaded:
    """What a source holds, as data: its config, weights per layer path, recorded shapes."""

    config: dict[str, Any]
    weights: dict[str, list[np.ndarray]]
    has_weights: bool  # False: an application built with weights=None (random initial values)
    model: Any = None  # the Keras model, where it could be loaded safely
    shapes: dict[str, list[Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --- loading -----------------------------------------------------------------------------------
def _from_model(model: Any, has_weights: bool) -> Loaded:
    weights: dict[str, list[np.ndarray]] = {}
    counts: dict[str, int] = {}

    def walk(layers: list[Any], prefix: str) -> None:
        for layer in layers:
            path = prefix + layer.name
            if type(layer).__name__ in MODEL_CLASSES:
                walk(layer.layers, path + "/")
                continue
            weights[path] = [np.asarray(w) for w in layer.get_weights()]
            counts[path] = int(layer.count_params())

    walk(model.layers, "")
    # Through JSON, as a saved file holds it: tuples become lists, NumPy values plain numbers.
    config = json.loads(
        json.dumps(
            {"class_name": type(model).__name__, "config": model.get_config()},
            default=lambda value: np.asarray(value).tolist(),
        )
    )
    if config["class_name"] not in MODEL_CLASSES:
        config["class_name"] = "Functional"
    shapes = {}
    for tensor in model.outputs:
        history = tensor._keras_history  # which layer call made it: its shape when a placeholder
        shapes[f"{history.operation.name}:{history.node_index}"] = list(tensor.shape)
    return Loaded(config, weights, has_weights, model, shapes, counts)


def _application(name: str, options: dict[str, Any]) -> Loaded:
    keras = load_keras()
    builder = getattr(keras.applications, name, None)
    if not name[:1].isupper() or not callable(builder):
        raise LayerloomError(f"keras.applications has no model {name!r}")
    kwargs: dict[str, Any] = {"weights": None}  # never a download
    if options.get("input_shape"):
        kwargs["input_shape"] = tuple(options["input_shape"])
    if options.get("classes"):
        kwargs["classes"] = int(options["classes"])
    try:
        model = builder(**kwargs)
    except ValueError as error:
        raise LayerloomError(f"keras.applications.{name}: {error}") from None
    weights_file = options.get("weights")
    if weights_file:
        try:
            model.load_weights(weights_file)
        except (OSError, ValueError) as error:
            raise LayerloomError(f"{weights_file}: cannot load these weights ({error})") from None
    return _from_model(model, bool(weights_file))


def _h5_arrays(group: Any) -> list[np.ndarray]:
    return [np.asarray(group[key]) for key in sorted(group, key=int)]


def _zip_weights(h5: Any, prefix: str, out: dict[str, list[np.ndarray]]) -> None:
    """Keras 3's ``model.weights.h5``: ``layers/<attr>/vars`` named by the layer (``name``)."""
    for key in h5.get("layers", {}):
        group = h5["layers"][key]
        own = group.get("vars")
        name = str(own.attrs.get("name", key)) if own is not None else key
        if "layers" in group:
            _zip_weights(group, prefix + name + "/", out)
        elif own is not None:
            out[prefix + name] = _h5_arrays(own)


def _keras_file(path: Path) -> Loaded:
    keras = load_keras()
    try:
        model = keras.saving.load_model(str(path), safe_mode=True, compile=False)
    except Exception as refused:  # noqa: BLE001 - any refusal: read the file as data instead
        import h5py

        reason = str(refused).splitlines()[0].split(". ")[0][:200]  # Keras' first sentence
        try:
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
                weights: dict[str, list[np.ndarray]] = {}
                if "model.weights.h5" in archive.namelist():
                    with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as h5:
                        _zip_weights(h5, "", weights)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
            raise LayerloomError(f"{path}: not a Keras model file ({error})") from None
        loaded = Loaded(config, weights, True)
        loaded.counts = {key: sum(a.size for a in arrays) for key, arrays in weights.items()}
        loaded.notes.append(
            f"Keras refused to load it safely ({reason}); its config was read as data instead"
        )
        return loaded
    return _from_model(model, True)


def _legacy_h5(path: Path) -> Loaded:
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            raw = h5.attrs.get("model_config")
            if raw is None:
                raise LayerloomError(
                    f"{path}: holds weights only, not a model (no model_config); import the "
                    "model it belongs to"
                )
            config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
            weights: dict[str, list[np.ndarray]] = {}
            stored = h5["model_weights"] if "model_weights" in h5 else h5
            for layer_name in stored:
                group = stored[layer_name]
                names = [
                    n.decode() if isinstance(n, bytes) else str(n)
                    for n in group.attrs.get("weight_names", [])
                ]
                for weight_name in names:
                    parts = weight_name.split("/")
                    # A nested model keeps its layers' weights under its own group: by layer name.
                    owner = layer_name if len(parts) < 3 else f"{layer_name}/{parts[-2]}"
                    weights.setdefault(owner, []).append(np.asarray(group[weight_name]))
    except OSError as error:
        raise LayerloomError(f"{path}: not an HDF5 model file ({error})") from None
    loaded = Loaded(config, weights, True)
    loaded.counts = {key: sum(a.size for a in arrays) for key, arrays in weights.items()}
    return loaded


def load_source(source: str, options: dict[str, Any] | None = None) -> Loaded:
    """A model file (``.keras``, legacy ``.h5``) or ``keras.applications.NAME``, as data."""
    options = options or {}
    if source.startswith(APPLICATIONS):
        return _application(source[len(APPLICATIONS) :], options)
    path = Path(source)
    if not path.is_file():
        raise LayerloomError(f"{source}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return _keras_file(path)
    if suffix in (".h5", ".hdf5"):
        return _legacy_h5(path)
    raise LayerloomError(
        f"{source}: import reads .keras and legacy .h5 model files, or keras.applications.NAME"
    )


def _classes(model: dict[str, Any], out: set[str]) -> set[str]:
    for layer in model.get("config", {}).get("layers", []):
        if layer.get("class_name") in MODEL_CLASSES + ("Model",):
            _classes(layer, out)
        elif layer.get("module") in (None, "keras.layers"):
            out.add(str(layer.get("class_name")))
    return out


def keras_defaults(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each keras.layers class of ``config``: its constructor's defaults, as a config holds them
    (read from the signature: nothing is built or run)."""
    import inspect

    keras = load_keras()
    found: dict[str, dict[str, Any]] = {}
    for name in sorted(_classes(config, set())):
        cls = getattr(keras.layers, name, None)
        if not isinstance(cls, type):
            continue
        values: dict[str, Any] = {}
        for base in reversed(cls.__mro__):  # a subclass' default wins (LSTM's over RNN's)
            if "__init__" in vars(base):
                values.update(
                    (key, p.default)
                    for key, p in inspect.signature(base.__init__).parameters.items()
                    if p.default is not inspect.Parameter.empty
                )
        found[name] = json.loads(json.dumps(values, default=lambda value: repr(value)))
    return found


def convert_loaded(loaded: Loaded) -> Converted:
    """``nodes.keras_import.convert`` with what the loader knows."""
    defaults = keras_defaults(loaded.config)
    return convert(loaded.config, default_registry(), loaded.shapes, loaded.counts, defaults)


# --- the graph's model, with the file's weights -------------------------------------------------
def transfer(model: Any, converted: Converted, loaded: Loaded) -> None:
    """Give each layer of the graph's compiled ``model`` the weights of the layer it came from."""
    plan_names = {node: keras for keras, node in _display_names(model, converted).items()}
    for node in converted.graph.nodes():
        source = converted.weights_of.get(node.name)
        if source is None:
            continue
        layer = model.get_layer(plan_names.get(node.name, node.name))
        arrays = loaded.weights.get(source, [])
        wanted = [tuple(w.shape) for w in layer.weights]
        if [tuple(a.shape) for a in arrays] != wanted:
            raise LayerloomError(
                f"layer {node.name!r}: the file holds weights of shapes "
                f"{[tuple(a.shape) for a in arrays]}, its node's layer takes {wanted}"
            )
        if arrays:
            layer.set_weights(arrays)


def _display_names(model: Any, converted: Converted) -> dict[str, str]:
    plan = build_plan(converted.graph, default_registry())
    return dict(plan.node_names)


def _batch(model: Any, seed: int = 0) -> dict[str, np.ndarray]:
    """A random batch of 2 per input, by the input's layer name."""
    rng = np.random.default_rng(seed)
    batch = {}
    for tensor in model.inputs:
        shape = [2, *(d or 8 for d in tensor.shape[1:])]
        name = tensor._keras_history.operation.name
        if "int" in str(tensor.dtype):
            batch[name] = np.zeros(shape, dtype=str(tensor.dtype))
        else:
            batch[name] = rng.standard_normal(shape).astype("float32")
    return batch


def _ordered(model: Any, batch: dict[str, np.ndarray], rename: Any = str) -> Any:
    arrays = [batch[rename(t._keras_history.operation.name)] for t in model.inputs]
    return arrays if len(arrays) > 1 else arrays[0]


def parity(original: Any, rebuilt: Any, converted: Converted) -> float:
    """Max abs difference of the two models' outputs on one random batch (inputs and outputs
    matched by name: the graph orders them its own way)."""
    batch = _batch(original)
    nodes = dict(_display_names(rebuilt, converted))
    theirs = original(_ordered(original, batch), training=False)
    ours = rebuilt(_ordered(rebuilt, batch, lambda name: nodes.get(name, name)), training=False)
    ours = ours if isinstance(ours, (list, tuple)) else [ours]
    theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs]
    names = {_keras_name(name, rebuilt, converted): i for i, name in enumerate(converted.outputs)}
    worst = 0.0
    for output, value in zip(rebuilt.outputs, ours, strict=True):
        index = names[output._keras_history.operation.name]
        worst = max(worst, float(np.max(np.abs(np.asarray(value) - np.asarray(theirs[index])))))
    return worst


def _keras_name(node_name: str, model: Any, converted: Converted) -> str:
    renamed = {node: keras for keras, node in _display_names(model, converted).items()}
    return renamed.get(node_name, node_name)


def rebuild(loaded: Loaded, converted: Converted) -> Any:
    """The graph's Keras model with the file's weights."""
    from layerloom.nodes.keras_build import build_model

    model = build_model(build_plan(converted.graph, default_registry()))
    transfer(model, converted, loaded)
    return model


# --- the job -----------------------------------------------------------------------------------
def run_import(job: Job, writer: EventWriter, stop: Any = None) -> None:
    options = dict(job.options)
    loaded = load_source(str(options["source"]), options)
    converted = convert_loaded(loaded)
    report: dict[str, Any] = {
        "graph": graph_to_dict(converted.graph),
        "placeholders": [[p.node, p.class_name, p.reason] for p in converted.placeholders],
        "notes": loaded.notes + converted.notes,
        "source_params": int(loaded.model.count_params()) if loaded.model is not None else None,
        "params": None,
        "max_abs_error": None,
        "weights": None,
    }
    if not converted.placeholders:
        model = rebuild(loaded, converted)
        report["params"] = int(model.count_params())
        if loaded.model is not None:
            report["max_abs_error"] = parity(loaded.model, model, converted)
        if loaded.has_weights:
            weights_file, optimizer_file = checkpoint_files(Path(job.job_dir, WEIGHTS_STEM))
            model.save_weights(str(weights_file))
            np.savez(optimizer_file)  # no optimizer state yet: training starts a fresh one
            report["weights"] = WEIGHTS_STEM
    writer.emit("result", imported=report)
    writer.emit("finished", status="finished", metrics={}, best_epoch=None, best=None)
