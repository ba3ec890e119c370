"""A Keras model's config becomes a graph: the reverse of compile, pure Python (no TensorFlow).

One node per layer call (names kept), one edge per tensor, parameters read from each layer's config
onto its spec's declared params (``read_params``: one mapping for every spec, with per-class
``READERS`` only where Keras stores a value differently). Nested models are flattened into the
graph; a layer called twice (shared) becomes one node per call, its weights copied to each (the
report says they are no longer tied). A layer no spec maps, or whose config holds an option no
param expresses, becomes a placeholder node (``nodes.catalog.imported``) carrying its config and
the reason. Both Keras 3 configs (``.keras``) and Keras 2 ones (legacy ``.h5``) are read.

Nothing here deserialises or runs a layer: the config is only read as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from layerloom.nodes.catalog.imported import PLACEHOLDER
from layerloom.nodes.catalog.inputs import INPUT
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.layout import layered_positions
from layerloom.nodes.registry import Registry
from layerloom.nodes.spec import NodeSpec

TensorRef = tuple[str, int, int]  # (layer path, call index, output index)
MODEL_CLASSES = ("Functional", "Sequential", "Model")
INPUT_DTYPES = ("float32", "int32", "int64")
# Keras classes whose spec is not keras.layers.<class>.
TYPE_IDS = {"LayerScale": "keras.applications.convnext.LayerScale"}
KERAS_MODULES = (None, "keras", "keras.layers", "keras.src.applications.convnext")
# ``a + b`` on Keras tensors records an operation of keras.src.ops.numpy (ConvNeXt's residuals);
# with two tensors it is the merging layer of the same name.
OPERATIONS = {("keras.src.ops.numpy", name) for name in ("Add", "Subtract", "Multiply")}
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


@dataclass(frozen=True)
class Placeholder:
    node: str
    class_name: str
    reason: str


@dataclass
class Converted:
    graph: Graph
    weights_of: dict[str, str]  # node name -> path of the layer whose weights it takes
    placeholders: list[Placeholder] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # the model's output nodes, in its order


# --- reading a config ------------------------------------------------------------------------
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


def _scalar_operation(class_name: str, inbound: Any) -> dict[str, float] | None:
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


def _ref_list(value: Any) -> list[TensorRef]:
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


# --- building the graph ----------------------------------------------------------------------
class _Converter:
    def __init__(
        self,
        registry: Registry,
        shapes: dict[str, list[Any]],
        counts: dict[str, int],
        defaults: dict[str, dict[str, Any]],
    ) -> None:
        self.registry = registry
        self.defaults = defaults
        self.shapes = dict(shapes)  # "path:call" -> output shape with batch, where recorded
        self.counts = counts  # layer path -> parameter count, where the loader knew it
        self.out = Converted(Graph(), {})

    def name_for(self, wanted: str) -> str:
        cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in wanted) or "layer"
        if cleaned != wanted:
            self.out.notes.append(f"layer {wanted!r} is named {cleaned!r} (node names allow _ -)")
        return self.out.graph.unique_name(cleaned)

    def add(
        self,
        type_id: str,
        name: str,
        params: dict[str, Any],
        sources: list[str],
        trainable: bool = True,
    ) -> str:
        spec = self.registry[type_id]
        node = Node(
            new_id(),
            spec.type_id,
            name,
            spec.normalize(params),
            version=spec.version,
            trainable=trainable,
        )
        self.out.graph.add_node(node)
        ports = spec.input_ports(len(sources)) if spec.variadic_inputs else spec.input_ports()
        for port, source in zip(ports, sources, strict=False):
            self.out.graph.connect(Edge(self.out.graph.by_name(source).id, node.id, port))
        return name

    def placeholder(
        self, layer: dict[str, Any], path: str, call: int, sources: list[str], reason: str
    ) -> str:
        name = self.name_for(layer["config"].get("name") or path)
        shape = self.shapes.get(f"{path}:{call}")
        params = {
            "class_name": layer.get("class_name"),
            "config": layer.get("config"),
            "output_shape": tuple(shape[1:]) if shape else None,
            "parameters": self.counts.get(path, 0),
            "reason": reason,
        }
        self.add(PLACEHOLDER, name, params, sources)
        self.out.weights_of[name] = path
        self.out.placeholders.append(Placeholder(name, str(layer.get("class_name")), reason))
        return name

    def layer(
        self,
        layer: dict[str, Any],
        path: str,
        call: int,
        sources: list[str],
        shapes: list[Any],
        extra: dict[str, Any],
        inbound: Any = None,
    ) -> str:
        class_name = str(layer.get("class_name"))
        conf = layer.get("config") or {}
        scalar = _scalar_operation(class_name, inbound)
        if (layer.get("module"), class_name) in OPERATIONS and scalar is not None:
            name = self.name_for(conf.get("name") or path.rsplit("/", 1)[-1])
            self.add("keras.layers.Rescaling", name, scalar, sources)
            self.out.weights_of[name] = path
            return name
        type_id = TYPE_IDS.get(class_name, f"keras.layers.{class_name}")
        spec = self.registry.get(type_id)
        if class_name == "Lambda":
            reason = "a Lambda runs Python code from the file, which an import never runs"
            return self.placeholder(layer, path, call, sources, reason)
        operation = (layer.get("module"), class_name) in OPERATIONS
        if (
            spec is None
            or not spec.keras_class
            or not (operation or layer.get("module") in KERAS_MODULES)
        ):
            where = layer.get("module") or "a custom module"
            reason = (
                f"no node type for the Keras class {class_name}"
                if spec is None or not spec.keras_class
                else f"{class_name} comes from {where}, not Keras"
            )
            return self.placeholder(layer, path, call, sources, reason)
        try:
            params, dropped = read_params(
                spec, class_name, conf, shapes, self.defaults.get(class_name)
            )
            arity = len(sources)
            if spec.variadic_inputs and arity < spec.min_inputs:
                raise Unmappable(f"it takes {arity} input(s); the node needs {spec.min_inputs}")
            required = sum(not port.optional for port in spec.inputs)
            if not spec.variadic_inputs and not required <= arity <= len(spec.inputs):
                raise Unmappable(f"it takes {arity} inputs; the node has {len(spec.inputs)}")
        except Unmappable as why:
            return self.placeholder(layer, path, call, sources, str(why))
        name = self.name_for(conf.get("name") or path.rsplit("/", 1)[-1])
        for key in dropped:
            self.out.notes.append(f"{name}: its {key} was dropped (it only shapes training)")
        for key, value in extra.items():
            if key not in ("training", "mask"):
                self.out.notes.append(f"{name}: its call argument {key}={value!r} was dropped")
        frozen = conf.get("trainable") is False  # frozen in the file: frozen here too
        self.add(spec.type_id, name, params, sources, trainable=not frozen)
        self.out.weights_of[name] = path
        return name

    def input(self, layer: dict[str, Any], path: str) -> str:
        conf = layer.get("config") or {}
        shape = conf.get("batch_shape") or conf.get("batch_input_shape")
        dtype = conf.get("dtype", "float32")
        dtype = dtype if isinstance(dtype, str) else "float32"
        if shape is None:
            raise LayerloomError(f"input {conf.get('name')!r} does not record its shape")
        if dtype not in INPUT_DTYPES:
            self.out.notes.append(f"input {conf.get('name')!r} was {dtype}; it is float32 here")
            dtype = "float32"
        name = self.name_for(conf.get("name") or path)
        return self.add(INPUT, name, {"shape": tuple(shape[1:]), "dtype": dtype}, [])

    # --- models ------------------------------------------------------------------------------
    def model(self, model: dict[str, Any], scope: str, sources: list[str] | None) -> list[str]:
        """Add a model's layers; the nodes of its outputs. ``sources`` feed a nested model's
        inputs (None: the outer model, whose inputs become Input nodes)."""
        if model.get("class_name") == "Sequential":
            return self.sequential(model, scope, sources)
        return self.functional(model, scope, sources)

    def sequential(self, model: dict[str, Any], scope: str, sources: list[str] | None) -> list[str]:
        layers = list(model["config"]["layers"])
        current: list[str] = list(sources or [])
        shape = None
        for layer in layers:
            path = scope + str(layer["config"].get("name"))
            if layer["class_name"] == "InputLayer":
                if not current:
                    current = [self.input(layer, path)]
                shape = layer["config"].get("batch_shape")
                continue
            if not current:
                built = (layer.get("build_config") or {}).get("input_shape")
                conf = {"batch_shape": built, "name": f"{model['config'].get('name')}_input"}
                current = [self.input({"config": conf}, scope + "input")]
                shape = built
            outs = self.node_of(layer, path, 0, current, [shape], {})
            current, shape = outs, self.shapes.get(f"{path}:0")
        return current

    def node_of(
        self,
        layer: dict[str, Any],
        path: str,
        call: int,
        sources: list[str],
        shapes: list[Any],
        extra: dict[str, Any],
        inbound: Any = None,
    ) -> list[str]:
        if layer.get("class_name") in MODEL_CLASSES:
            return self.model(layer, path + "/", sources)
        return [self.layer(layer, path, call, sources, shapes, extra, inbound)]

    def functional(self, model: dict[str, Any], scope: str, sources: list[str] | None) -> list[str]:
        conf = model["config"]
        tensors: dict[TensorRef, str] = {}
        inputs = _ref_list(conf.get("input_layers"))
        if sources is not None:
            if len(sources) != len(inputs):
                raise LayerloomError(
                    f"nested model {conf.get('name')!r} takes {len(inputs)} inputs, "
                    f"is given {len(sources)}"
                )
            tensors.update(dict(zip(inputs, sources, strict=True)))
        layers = {
            str(layer.get("name") or layer["config"]["name"]): layer for layer in conf["layers"]
        }
        for layer in layers.values():  # shapes the consumers recorded
            for inbound in layer.get("inbound_nodes") or []:
                refs, shapes, _ = call_inputs(inbound)
                for (src, call, index), shape in zip(refs, shapes, strict=True):
                    if shape is not None and index == 0:
                        self.shapes.setdefault(f"{scope}{src}:{call}", shape)
        pending = [
            (name, call, inbound)
            for name, layer in layers.items()
            for call, inbound in enumerate(layer.get("inbound_nodes") or [])
        ]
        for name, layer in layers.items():
            if layer.get("class_name") == "InputLayer" and (name, 0, 0) not in tensors:
                tensors[(name, 0, 0)] = self.input(layer, scope + name)
        calls: dict[str, int] = {}
        while pending:
            waiting = []
            for name, call, inbound in pending:
                refs, shapes, extra = call_inputs(inbound)
                if not all(ref in tensors for ref in refs):
                    waiting.append((name, call, inbound))
                    continue
                layer = layers[name]
                if calls.get(name):
                    self.out.notes.append(
                        f"layer {name!r} is shared (called {len(layer['inbound_nodes'])} times): "
                        "each call is its own node with a copy of its weights, no longer tied"
                    )
                calls[name] = calls.get(name, 0) + 1
                sources = [tensors[r] for r in refs]
                outs = self.node_of(layer, scope + name, call, sources, shapes, extra, inbound)
                for index, out in enumerate(outs):
                    tensors[(name, call, index)] = out
            if len(waiting) == len(pending):
                names = ", ".join(sorted({name for name, _, _ in waiting}))
                raise LayerloomError(f"cannot follow the tensors into layer(s) {names}")
            pending = waiting
        outputs = []
        for ref in _ref_list(conf.get("output_layers")):
            if ref not in tensors:
                raise LayerloomError(
                    f"output {ref[0]!r} (output {ref[2]}) is not a tensor a node gives: a layer "
                    "with several outputs cannot be a node"
                )
            outputs.append(tensors[ref])
        return outputs


def convert(
    model: dict[str, Any],
    registry: Registry,
    shapes: dict[str, list[Any]] | None = None,
    counts: dict[str, int] | None = None,
    defaults: dict[str, dict[str, Any]] | None = None,
) -> Converted:
    """The graph for a model config (``{"class_name": "Functional", "config": {...}}``), laid out
    top to bottom. ``shapes`` ("path:call" -> output shape with batch) and ``counts`` (layer path
    -> parameter count) come from the loader where it knows them (placeholders use them), and
    ``defaults`` (Keras class -> its constructor's defaults) where Keras is loaded."""
    if model.get("class_name") not in MODEL_CLASSES:
        raise LayerloomError(
            f"the file holds a {model.get('class_name')}, not a functional or sequential model"
        )
    converter = _Converter(registry, shapes or {}, counts or {}, defaults or {})
    outputs = converter.model(model, "", None)
    graph = converter.out.graph
    converter.out.outputs = outputs
    for name in outputs:
        if graph.out_edges(graph.by_name(name).id):
            converter.out.notes.append(
                f"output {name!r} also feeds other layers; only nodes nothing consumes are model "
                "outputs here, so it is not one"
            )
    for node_id, pos in layered_positions(graph, "tb").items():
        graph.move(node_id, pos)
    return converter.out
