"""Keras 3 layers as tfjs-layers 4.22 layers: the one-to-one cases.

Each translator takes a ``Node`` (a plan layer with its Keras config, weights and input shapes)
and returns the tfjs layers that replace it; the last one keeps the node's name, so outputs and
later layers still find it. Layers that need several tfjs layers to match Keras live in
``tfjs_rebuilt``. What tfjs cannot do faithfully raises ``Unsupported`` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerloom.exporters.tfjs_format import JsLayer, keras2
from layerloom.exporters.tfjs_limits import (
    RENAMED_ACTIVATIONS,
    activation_problem,
    convolution_problem,
    output_padding_problem,
)

# Only active while training in Keras; at inference they pass their input through.
AUGMENTATIONS = (
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomContrast",
    "RandomBrightness",
)


class Unsupported(Exception):
    """This node has no faithful tfjs-layers 4.22 form; the message says why."""


@dataclass
class Node:
    """One plan layer with what its translation needs."""

    name: str
    class_name: str
    config: dict[str, Any]  # the Keras 3 layer's get_config(), untranslated
    sources: list[str]  # the tensors it reads (tfjs layer names), in port order
    ports: list[str]
    shapes: list[tuple[int | None, ...]]  # input shapes without the batch axis
    output_shape: tuple[int | None, ...]
    weights: dict[str, np.ndarray]  # by path inside the layer: "kernel", "query/bias"

    def js_config(self, *drop: str, **changes: Any) -> dict[str, Any]:
        """The config in Keras 2 form, without ``name`` and ``drop``, with ``changes``."""
        config = {k: v for k, v in keras2(self.config).items() if k not in ("name", *drop)}
        config.update(changes)
        return config

    def flat_weights(self, rename: dict[str, str] | None = None) -> list[tuple[str, np.ndarray]]:
        # tfjs names recurrent weights without the cell's scope: "lstm/kernel", not
        # "lstm/lstm_cell/kernel" (and "bi/forward_lstm/kernel" inside a Bidirectional).
        rename = rename or {}
        out = []
        for path, value in self.weights.items():
            short = "/".join(p for p in path.split("/") if not p.endswith("_cell"))
            out.append((rename.get(short, short), value))
        return out

    def rank(self, index: int = 0) -> int:
        """Rank of input ``index`` with the batch axis."""
        return len(self.shapes[index]) + 1


Translator = Callable[[Node], list[JsLayer]]


def activation(name: str, recurrent: bool = False) -> tuple[str, list[tuple[str, dict]]]:
    """(tfjs activation, weightless layers to append) for a Keras activation name. What it cannot
    do is declared (``tfjs_limits.activation_problem``), so the editor's badge says the same."""
    problem = activation_problem(name, recurrent)
    if problem:
        raise Unsupported(problem)
    name = RENAMED_ACTIVATIONS.get(name, name)
    if name == "leaky_relu":
        return "linear", [("LeakyReLU", {"alpha": 0.2})]  # Keras' default negative_slope
    if name == "hard_sigmoid":  # (inside recurrent cells it is refused above)
        # Keras 3: relu6(x + 3) / 6. tfjs' hardSigmoid is Keras 2's clip(0.2 x + 0.5).
        return "linear", [
            ("Rescaling", {"scale": 1 / 6, "offset": 0.5}),
            ("ReLU", {"max_value": 1.0}),
        ]
    return name, []


def chain(node: Node, first: JsLayer, steps: list[tuple[str, dict[str, Any]]]) -> list[JsLayer]:
    """``first`` followed by weightless ``steps``; the last layer carries the node's name."""
    if not steps:
        return [first]
    first.name = f"{node.name}__0"
    layers = [first]
    for index, (class_name, config) in enumerate(steps, start=1):
        name = node.name if index == len(steps) else f"{node.name}__{index}"
        layers.append(JsLayer(name, class_name, config, [layers[-1].name]))
    return layers


def default(node: Node) -> list[JsLayer]:
    config = node.js_config()
    steps: list[tuple[str, dict[str, Any]]] = []
    if isinstance(config.get("activation"), str):
        config["activation"], steps = activation(config["activation"])
    layer = JsLayer(node.name, node.class_name, config, node.sources, node.flat_weights())
    return chain(node, layer, steps)


def rnn_config(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("reset_after"):
        raise Unsupported(
            "tfjs-layers' GRU has no reset_after=True (the Keras default); use reset_after=False"
        )
    out = {k: v for k, v in keras2(config).items() if k not in ("name", "seed", "use_cudnn")}
    out["activation"], _ = activation(config.get("activation", "tanh"), recurrent=True)
    out["recurrent_activation"], _ = activation(
        config.get("recurrent_activation", "sigmoid"), recurrent=True
    )
    return out


def recurrent(node: Node) -> list[JsLayer]:
    config = rnn_config(node.config)
    return [JsLayer(node.name, node.class_name, config, node.sources, node.flat_weights())]


def bidirectional(node: Node) -> list[JsLayer]:
    inner = node.config["layer"]
    inner_config = rnn_config(inner["config"])
    # tfjs prefixes forward_/backward_ to the inner layer's name itself; Keras 3 already did.
    inner_config["name"] = inner["config"]["name"].removeprefix("forward_")
    config = node.js_config("backward_layer")
    config["layer"] = {"class_name": inner["class_name"], "config": inner_config}
    return [JsLayer(node.name, "Bidirectional", config, node.sources, node.flat_weights())]


def leaky_relu(node: Node) -> list[JsLayer]:
    alpha = float(node.config.get("negative_slope", 0.3))  # Keras 3 renamed tfjs' alpha
    return [JsLayer(node.name, "LeakyReLU", {"alpha": alpha}, node.sources)]


def relu(node: Node) -> list[JsLayer]:
    top = node.config.get("max_value")
    slope = float(node.config.get("negative_slope") or 0.0)
    threshold = float(node.config.get("threshold") or 0.0)
    if slope == 0 and threshold == 0:
        config = {"max_value": None if top is None else float(top)}
        return [JsLayer(node.name, "ReLU", config, node.sources)]
    if threshold == 0 and top is None:
        return [JsLayer(node.name, "LeakyReLU", {"alpha": slope}, node.sources)]
    if slope == 0 and top is None:
        return [JsLayer(node.name, "ThresholdedReLU", {"theta": threshold}, node.sources)]
    raise Unsupported(
        "TF.js' ReLU takes only one of max_value, negative_slope and threshold at a time"
    )


def identity(node: Node) -> list[JsLayer]:
    return [JsLayer(node.name, "Activation", {"activation": "linear"}, node.sources)]


def flatten(node: Node) -> list[JsLayer]:
    if node.rank() == 2:  # Keras passes (batch, features) through; tfjs wants rank >= 3
        return identity(node)
    if None in node.shapes[0]:  # tfjs' Flatten needs every size; Reshape resolves -1 at run time
        return [JsLayer(node.name, "Reshape", {"target_shape": [-1]}, node.sources)]
    return [JsLayer(node.name, "Flatten", {}, node.sources)]


def concatenate(node: Node) -> list[JsLayer]:
    axis = int(node.config.get("axis", -1)) % node.rank()  # tfjs mishandles negative axes
    for position in range(1, node.rank()):
        sizes = {shape[position - 1] for shape in node.shapes}
        if position != axis and None in sizes and len(sizes) > 1:
            raise Unsupported(
                "TF.js' Concatenate refuses an unknown size next to a known one off the joined axis"
            )
    return [JsLayer(node.name, "Concatenate", {"axis": axis}, node.sources)]


def dot(node: Node) -> list[JsLayer]:
    if max(node.rank(0), node.rank(1)) > 3:
        raise Unsupported("TF.js' Dot takes inputs of at most two axes besides the batch")
    return default(node)


def prelu(node: Node) -> list[JsLayer]:
    if node.rank() < 2 or not node.shapes[0]:
        raise Unsupported("TF.js' PReLU needs at least one feature axis")
    return default(node)


def softmax(node: Node) -> list[JsLayer]:
    axis = node.config.get("axis", -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if len(axes) != 1:
        raise Unsupported("TF.js' softmax takes one axis")
    rank = node.rank()
    axis = int(axes[0]) % rank
    if axis == rank - 1:
        return [JsLayer(node.name, "Softmax", {"axis": -1}, node.sources)]
    # tfjs only normalises along the last axis: move the axis there and back.
    order = [d for d in range(1, rank) if d != axis] + [axis]
    back = [order.index(d) + 1 for d in range(1, rank)]
    n = node.name
    return [
        JsLayer(f"{n}__last", "Permute", {"dims": order}, node.sources),
        JsLayer(f"{n}__softmax", "Softmax", {"axis": -1}, [f"{n}__last"]),
        JsLayer(n, "Permute", {"dims": back}, [f"{n}__softmax"]),
    ]


def global_pooling(node: Node) -> list[JsLayer]:
    if not node.config.get("keepdims"):
        return [JsLayer(node.name, node.class_name, {}, node.sources)]
    # tfjs' global pooling has no keepdims: pool, then reshape to size-1 spatial axes.
    target = [1] * (node.rank() - 2) + [node.shapes[0][-1]]
    pooled = JsLayer(f"{node.name}__pool", node.class_name, {}, node.sources)
    return [pooled, JsLayer(node.name, "Reshape", {"target_shape": target}, [pooled.name])]


def check_convolution(node: Node) -> None:
    # Declared (``tfjs_limits``) so that the editor's badge says the same.
    problem = convolution_problem(node.config)
    if problem:
        raise Unsupported(problem)


def convolution(node: Node) -> list[JsLayer]:
    check_convolution(node)
    return default(node)


def conv_transpose(node: Node) -> list[JsLayer]:
    # Declared (``tfjs_limits``) so that the editor's badge says the same.
    problem = output_padding_problem(node.config, node.shapes)
    if problem:
        raise Unsupported(problem)
    return convolution(node)


def layer_norm(node: Node) -> list[JsLayer]:
    if node.config.get("rms_scaling"):
        raise Unsupported("TF.js' LayerNormalization has no rms_scaling")
    return default(node)


SIMPLE: dict[str, Translator] = {
    "LSTM": recurrent,
    "GRU": recurrent,
    "SimpleRNN": recurrent,
    "Bidirectional": bidirectional,
    "LeakyReLU": leaky_relu,
    "ReLU": relu,
    "Flatten": flatten,
    "Concatenate": concatenate,
    "Dot": dot,
    "PReLU": prelu,
    "Softmax": softmax,
    "Conv2D": convolution,
    "Conv3D": convolution,
    "SeparableConv2D": convolution,
    "Conv2DTranspose": conv_transpose,
    **{name: identity for name in AUGMENTATIONS},
    **{
        f"Global{kind}Pooling{d}D": global_pooling for kind in ("Average", "Max") for d in (1, 2, 3)
    },
}
