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

from dataclasses import dataclass, field
from typing import Any

from layerloom.nodes.catalog.imported import PLACEHOLDER
from layerloom.nodes.catalog.inputs import INPUT
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.keras_config import (
    TensorRef,
    Unmappable,
    call_inputs,
    read_params,
    ref_list,
    scalar_operation,
)
from layerloom.nodes.layout import layered_positions
from layerloom.nodes.registry import Registry

MODEL_CLASSES = ("Functional", "Sequential", "Model")
INPUT_DTYPES = ("float32", "int32", "int64")
# Keras classes whose spec is not keras.layers.<class>.
TYPE_IDS = {"LayerScale": "keras.applications.convnext.LayerScale"}
KERAS_MODULES = (None, "keras", "keras.layers", "keras.src.applications.convnext")
# ``a + b`` on Keras tensors records an operation of keras.src.ops.numpy (ConvNeXt's residuals);
# with two tensors it is the merging layer of the same name.
OPERATIONS = {("keras.src.ops.numpy", name) for name in ("Add", "Subtract", "Multiply")}


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
        scalar = scalar_operation(class_name, inbound)
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
        inputs = ref_list(conf.get("input_layers"))
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
        for ref in ref_list(conf.get("output_layers")):
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
