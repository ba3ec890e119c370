"""Keras layers that tfjs-layers 4.22 lacks or computes differently, rebuilt from tfjs layers
that match Keras (the last one keeps the node's name).

- MultiHeadAttention: tfjs' class needs ``value`` as a call keyword holding a tensor, which a saved
  topology cannot express; rebuilt per head from Dense, Dot and Softmax.
- Subtract, Normalization, GroupNormalization, ConvNeXt's LayerScale: no tfjs class.
- Resizing, CenterCrop, UpSampling2D (not nearest): tfjs resizes with other pixel centres (or
  crops at other offsets); rebuilt as exact separable matrices (Permute + Dense) taken from Keras'
  own resize.
- DepthwiseConv2D with dilation (tfjs ignores it), Conv1D with causal padding (not implemented),
  ELU with alpha != 1 (refused by tfjs).
"""

from __future__ import annotations

import math

import numpy as np

from layerloom.exporters.tfjs_format import JsLayer
from layerloom.exporters.tfjs_layers import (
    Node,
    Translator,
    Unsupported,
    activation,
    chain,
    layer_norm,
)
from layerloom.exporters.tfjs_layers import check_convolution as _check_convolution
from layerloom.exporters.tfjs_layers import default as _default


def _reshape(name: str, source: str, shape: list[int | None]) -> JsLayer:
    """Reshape to ``shape`` (without batch); one unknown size becomes -1."""
    if shape.count(None) > 1:
        raise Unsupported("TF.js can rebuild this layer only with at most one unknown size")
    target = [-1 if size is None else int(size) for size in shape]
    return JsLayer(name, "Reshape", {"target_shape": target}, [source])


def _affine(name: str, source: str, scale: np.ndarray, shift: np.ndarray, axis: int) -> JsLayer:
    """x * scale + shift along ``axis``: an inference-mode BatchNormalization."""
    size = len(scale)
    weights = [
        ("gamma", np.asarray(scale, np.float32)),
        ("beta", np.asarray(shift, np.float32)),
        ("moving_mean", np.zeros(size, np.float32)),
        ("moving_variance", np.ones(size, np.float32)),
    ]
    config = {"axis": axis, "epsilon": 0.0, "center": True, "scale": True, "momentum": 0.99}
    return JsLayer(name, "BatchNormalization", config, [source], weights)


def subtract(node: Node) -> list[JsLayer]:
    # a - b == a + (-b) exactly in floating point.
    negated = JsLayer(
        f"{node.name}__neg", "Rescaling", {"scale": -1.0, "offset": 0.0}, [node.sources[1]]
    )
    return [negated, JsLayer(node.name, "Add", {}, [node.sources[0], negated.name])]


def elu(node: Node) -> list[JsLayer]:
    alpha = float(node.config.get("alpha", 1.0))
    if alpha == 1.0:
        return [JsLayer(node.name, "ELU", {"alpha": 1.0}, node.sources)]
    # tfjs' ELU refuses other alphas. With e = elu(x): elu_a(x) = (1 - a) relu(e) + a e.
    n = node.name
    return [
        JsLayer(f"{n}__elu", "Activation", {"activation": "elu"}, node.sources),
        JsLayer(f"{n}__pos", "ReLU", {}, [f"{n}__elu"]),
        JsLayer(f"{n}__a", "Rescaling", {"scale": alpha, "offset": 0.0}, [f"{n}__elu"]),
        JsLayer(f"{n}__b", "Rescaling", {"scale": 1 - alpha, "offset": 0.0}, [f"{n}__pos"]),
        JsLayer(n, "Add", {}, [f"{n}__a", f"{n}__b"]),
    ]


def _per_position(node: Node, axes: list[int], scale: np.ndarray, shift: np.ndarray) -> list:
    """x * scale + shift over the kept ``axes`` (neighbours) of any rank: reshape to
    (batch, before, after, kept), a BatchNormalization on the last axis (tfjs' kernel handles
    only that, up to rank 4), and back."""
    shape = list(node.shapes[0])
    first, last = min(axes) - 1, max(axes) - 1
    if sorted(axes) != list(range(min(axes), max(axes) + 1)):
        raise Unsupported("TF.js' rebuilt Normalization needs neighbouring axes")

    def product(sizes: list[int | None]) -> int | None:
        return None if None in sizes else math.prod(sizes)  # type: ignore[arg-type]

    before, kept = product(shape[:first]), product(shape[first : last + 1])
    after = product(shape[last + 1 :])
    n = node.name
    layers = [_reshape(f"{n}__block", node.sources[0], [before, kept, after])]
    layers.append(JsLayer(f"{n}__last", "Permute", {"dims": [1, 3, 2]}, [f"{n}__block"]))
    layers.append(_affine(f"{n}__affine", f"{n}__last", scale, shift, -1))
    layers.append(JsLayer(f"{n}__back", "Permute", {"dims": [1, 3, 2]}, [f"{n}__affine"]))
    return [*layers, _reshape(n, f"{n}__back", shape)]


def normalization(node: Node) -> list[JsLayer]:
    if node.config.get("invert"):
        raise Unsupported("TF.js has no Normalization; only invert=False is rebuilt")
    mean = np.asarray(node.weights["mean"], np.float64).reshape(-1)
    variance = np.asarray(node.weights["variance"], np.float64).reshape(-1)
    deviation = np.maximum(np.sqrt(variance), 1e-7)  # Keras divides by max(sqrt(var), epsilon)
    scale, shift = 1 / deviation, -mean / deviation
    rank = node.rank()
    axes = sorted({int(a) % rank for a in node.config.get("axis") or ()})
    if not axes or mean.size == 1:
        config = {"scale": float(scale[0]), "offset": float(shift[0])}
        return [JsLayer(node.name, "Rescaling", config, node.sources)]
    if axes == [rank - 1] and rank <= 4:
        return [_affine(node.name, node.sources[0], scale, shift, -1)]
    return _per_position(node, axes, scale, shift)


def layer_scale(node: Node) -> list[JsLayer]:
    # ConvNeXt's LayerScale is x * gamma over the last axis: a per-channel affine without shift.
    (gamma,) = node.weights.values()  # one unnamed weight, so not looked up by its path
    scale = np.asarray(gamma, np.float64).reshape(-1)
    rank = node.rank()
    if rank <= 4:
        return [_affine(node.name, node.sources[0], scale, np.zeros_like(scale), -1)]
    return _per_position(node, [rank - 1], scale, np.zeros_like(scale))


def group_normalization(node: Node) -> list[JsLayer]:
    shape = list(node.shapes[0])
    groups, channels = int(node.config["groups"]), int(shape[-1] or 0)
    if int(node.config.get("axis", -1)) % node.rank() != node.rank() - 1:
        raise Unsupported("TF.js has no GroupNormalization; it is rebuilt for channels last")
    # Flatten the other axes, split the channels into groups, normalise each sample over all but
    # the group axis (LayerNormalization; tfjs stops at rank 4), join, then gamma and beta.
    other = None if None in shape[:-1] else math.prod(shape[:-1])  # type: ignore[arg-type]
    n = node.name
    eps = float(node.config.get("epsilon", 1e-3))
    norm = {"axis": [1, 3], "epsilon": eps, "center": False, "scale": False}
    wide = len(shape) > 2  # then the affine step's BatchNormalization needs rank 3 as well
    layers = [
        _reshape(f"{n}__split", node.sources[0], [other, groups, channels // groups]),
        JsLayer(f"{n}__norm", "LayerNormalization", norm, [f"{n}__split"]),
        _reshape(f"{n}__join", f"{n}__norm", [other, channels] if wide else shape),
    ]
    gamma = node.weights.get("gamma", np.ones(channels))
    beta = node.weights.get("beta", np.zeros(channels))
    if not wide:
        return [*layers, _affine(n, layers[-1].name, gamma, beta, len(shape))]
    layers.append(_affine(f"{n}__affine", layers[-1].name, gamma, beta, 2))
    return [*layers, _reshape(n, layers[-1].name, shape)]


def _channels_only(node: Node) -> list[JsLayer]:
    """BatchNormalization or LayerNormalization over the last axis, on any rank: tfjs' kernel
    stops at rank 4, so the other axes are flattened into one around it."""
    layer = layer_norm(node)[0] if node.class_name == "LayerNormalization" else _default(node)[0]
    if node.rank() <= 4:
        return [layer]
    if int(np.ravel([node.config.get("axis", -1)])[0]) % node.rank() != node.rank() - 1:
        raise Unsupported("TF.js normalises only the last axis of inputs with more than 3 axes")
    shape = list(node.shapes[0])
    other = None if None in shape[:-1] else math.prod(shape[:-1])  # type: ignore[arg-type]
    n = node.name
    layer.name, layer.inbound = f"{n}__flat_norm", [f"{n}__flat"]
    layer.config["axis"] = -1
    return [
        _reshape(f"{n}__flat", node.sources[0], [other, shape[-1]]),
        layer,
        _reshape(n, layer.name, shape),
    ]


def multi_head_attention(node: Node) -> list[JsLayer]:
    """Per head: Dense projections, Dot(q, k), Softmax, Dot(scores, v); then the output Dense."""
    c, w, n = node.config, node.weights, node.name
    sources = dict(zip(node.ports, node.sources, strict=True))
    shapes = dict(zip(node.ports, node.shapes, strict=True))
    rank = len(shapes["query"]) + 1
    if list(c.get("attention_axes") or range(1, rank - 1)) != list(range(1, rank - 1)):
        raise Unsupported(
            "TF.js attention is rebuilt only over all axes between batch and features"
        )
    if c.get("use_gate") or c.get("output_shape") or c.get("sliding_window"):
        raise Unsupported("TF.js attention is rebuilt without gate, output_shape or window")
    layers: list[JsLayer] = []
    if rank > 3:  # attending over several axes at once = over them flattened into one
        for port in list(sources):
            flat = [None if None in shapes[port][:-1] else math.prod(shapes[port][:-1])]
            layers.append(_reshape(f"{n}__{port}_flat", sources[port], [*flat, shapes[port][-1]]))
            sources[port] = layers[-1].name
    heads, key_dim = int(c["num_heads"]), int(c["key_dim"])
    scale = 1 / math.sqrt(key_dim)  # Keras scales the projected query; folded into its weights
    contexts = []
    for h in range(heads):
        p = f"{n}__h{h}"
        projected = {}
        for part, port, factor in (
            ("query", "query", scale),
            ("key", "key" if "key" in sources else "value", 1.0),
            ("value", "value", 1.0),
        ):
            weights = [("kernel", w[f"{part}/kernel"][:, h, :] * factor)]
            if f"{part}/bias" in w:
                weights.append(("bias", w[f"{part}/bias"][h] * factor))
            config = {"units": weights[0][1].shape[1], "use_bias": len(weights) == 2}
            layers.append(JsLayer(f"{p}_{part}", "Dense", config, [sources[port]], weights))
            projected[part] = layers[-1].name
        layers += [
            JsLayer(f"{p}_scores", "Dot", {"axes": [2, 2]}, [projected["query"], projected["key"]]),
            JsLayer(f"{p}_softmax", "Softmax", {"axis": -1}, [f"{p}_scores"]),
            JsLayer(f"{p}_context", "Dot", {"axes": [2, 1]}, [f"{p}_softmax", projected["value"]]),
        ]
        contexts.append(f"{p}_context")
    if heads > 1:
        layers.append(JsLayer(f"{n}__heads", "Concatenate", {"axis": -1}, contexts))
    kernel = w["attention_output/kernel"]
    weights = [("kernel", kernel.reshape(-1, kernel.shape[-1]))]
    if "attention_output/bias" in w:
        weights.append(("bias", w["attention_output/bias"]))
    config = {"units": kernel.shape[-1], "use_bias": len(weights) == 2}
    out = n if rank == 3 else f"{n}__out"
    layers.append(JsLayer(out, "Dense", config, [layers[-1].name], weights))
    if rank > 3:
        layers.append(_reshape(n, out, list(shapes["query"])))
    return layers


def _resize_matrix(size_in: int, size_out: int, method: str, antialias: bool) -> np.ndarray:
    """(size_out, size_in): Keras' own 1-D resize, read off by resizing the identity."""
    import keras

    probe = np.eye(size_in, dtype=np.float32)[None, :, None, :]  # height size_in, width 1
    out = keras.ops.image.resize(probe, (size_out, 1), interpolation=method, antialias=antialias)
    return np.asarray(keras.ops.convert_to_numpy(out))[0, :, 0, :]


def _axis_map(size: int, start: int, length: int, out: int, method: str, aa: bool) -> np.ndarray:
    """Crop ``length`` from ``start``, then resize to ``out``: one (out, size) matrix."""
    return _resize_matrix(length, out, method, aa) @ np.eye(size, dtype=np.float32)[start:][:length]


def _separable(node: Node, rows: np.ndarray, cols: np.ndarray) -> list[JsLayer]:
    """Per channel out = rows @ image @ cols.T, as Permute/Dense(no bias) pairs."""
    n = node.name
    return [
        JsLayer(f"{n}__cwh", "Permute", {"dims": [3, 2, 1]}, node.sources),  # (C, W, H)
        JsLayer(
            f"{n}__rows",
            "Dense",
            {"units": rows.shape[0], "use_bias": False},
            [f"{n}__cwh"],
            [("kernel", rows.T)],
        ),
        JsLayer(f"{n}__chw", "Permute", {"dims": [1, 3, 2]}, [f"{n}__rows"]),  # (C, H', W)
        JsLayer(
            f"{n}__cols",
            "Dense",
            {"units": cols.shape[0], "use_bias": False},
            [f"{n}__chw"],
            [("kernel", cols.T)],
        ),
        JsLayer(n, "Permute", {"dims": [2, 3, 1]}, [f"{n}__cols"]),  # (H', W', C)
    ]


def _image_size(node: Node) -> tuple[int, int]:
    height, width = node.shapes[0][0], node.shapes[0][1]
    if height is None or width is None:
        raise Unsupported("TF.js image resizing is rebuilt only for a known image size")
    return int(height), int(width)


def resizing(node: Node) -> list[JsLayer]:
    c = node.config
    if c.get("pad_to_aspect_ratio"):
        raise Unsupported("TF.js resizing is rebuilt without pad_to_aspect_ratio")
    height, width = _image_size(node)
    th, tw = int(c["height"]), int(c["width"])
    top, crop_h, left, crop_w = 0, height, 0, width
    if c.get("crop_to_aspect_ratio"):  # Keras' box, in float32 as its TF backend computes it
        crop_h = max(min(height, int(np.float32(width * th) / np.float32(tw))), 1)
        crop_w = max(min(width, int(np.float32(height * tw) / np.float32(th))), 1)
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
    method, aa = c.get("interpolation", "bilinear"), bool(c.get("antialias"))
    rows = _axis_map(height, top, crop_h, th, method, aa)
    return _separable(node, rows, _axis_map(width, left, crop_w, tw, method, aa))


def center_crop(node: Node) -> list[JsLayer]:
    height, width = _image_size(node)
    th, tw = int(node.config["height"]), int(node.config["width"])
    if height >= th and width >= tw:  # a plain crop at Keras' offsets
        top, left = (height - th) // 2, (width - tw) // 2
        cropping = [[top, height - th - top], [left, width - tw - left]]
        return [JsLayer(node.name, "Cropping2D", {"cropping": cropping}, node.sources)]
    # Smaller inputs: Keras' smart_resize crops to the aspect ratio and resizes bilinearly.
    crop_h = max(min(height, int(float(width * th) / tw)), 1)
    crop_w = max(min(width, int(float(height * tw) / th)), 1)
    top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    rows = _axis_map(height, top, crop_h, th, "bilinear", False)
    return _separable(node, rows, _axis_map(width, left, crop_w, tw, "bilinear", False))


def up_sampling(node: Node) -> list[JsLayer]:
    method = node.config.get("interpolation", "nearest")
    size = [int(s) for s in node.config["size"]]
    if method == "nearest":  # pixel repetition: the same in tfjs
        config = {"size": size, "interpolation": "nearest"}
        return [JsLayer(node.name, "UpSampling2D", config, node.sources)]
    height, width = _image_size(node)
    rows = _axis_map(height, 0, height, height * size[0], method, False)
    return _separable(node, rows, _axis_map(width, 0, width, width * size[1], method, False))


def conv1d(node: Node) -> list[JsLayer]:
    _check_convolution(node)
    if node.config.get("padding") != "causal":
        return _default(node)
    # tfjs has no causal padding: pad the start by dilation * (kernel - 1), then a valid Conv1D.
    # There is no ZeroPadding1D in tfjs either, so pad as an image of width 1.
    c, n = node.config, node.name
    pad = int(c["dilation_rate"][0]) * (int(c["kernel_size"][0]) - 1)
    steps, channels = node.shapes[0]
    config = node.js_config(padding="valid")
    config["activation"], after = activation(config.get("activation", "linear"))
    padded = None if steps is None else steps + pad
    layers = [
        _reshape(f"{n}__2d", node.sources[0], [steps, 1, channels]),
        JsLayer(f"{n}__pad", "ZeroPadding2D", {"padding": [[pad, 0], [0, 0]]}, [f"{n}__2d"]),
        _reshape(f"{n}__1d", f"{n}__pad", [padded, channels]),
    ]
    conv = JsLayer(n, "Conv1D", config, [f"{n}__1d"], node.flat_weights())
    return layers + chain(node, conv, after)


def depthwise(node: Node) -> list[JsLayer]:
    _check_convolution(node)
    config = node.js_config()
    config["activation"], after = activation(config.get("activation", "linear"))
    kernel = node.weights["kernel"]  # (kh, kw, channels, multiplier)
    if all(d == 1 for d in node.config.get("dilation_rate", (1, 1))):
        weights = node.flat_weights({"kernel": "depthwise_kernel"})
        layer = JsLayer(node.name, "DepthwiseConv2D", config, node.sources, weights)
        return chain(node, layer, after)
    # tfjs' DepthwiseConv2D ignores dilation_rate; a Conv2D with a block-diagonal kernel
    # (output channel c * multiplier + j reads only input channel c) computes the same sums.
    kh, kw, channels, multiplier = kernel.shape
    full = np.zeros((kh, kw, channels, channels * multiplier), np.float32)
    for c in range(channels):
        full[:, :, c, c * multiplier : (c + 1) * multiplier] = kernel[:, :, c, :]
    weights = [("kernel", full)] + [(k, v) for k, v in node.weights.items() if k == "bias"]
    conv = {
        key: config[key]
        for key in ("kernel_size", "strides", "padding", "dilation_rate", "use_bias", "activation")
    }
    layer = JsLayer(
        node.name, "Conv2D", {**conv, "filters": channels * multiplier}, node.sources, weights
    )
    return chain(node, layer, after)


REBUILT: dict[str, Translator] = {
    "Subtract": subtract,
    "ELU": elu,
    "Normalization": normalization,
    "GroupNormalization": group_normalization,
    "LayerScale": layer_scale,
    "MultiHeadAttention": multi_head_attention,
    "BatchNormalization": _channels_only,
    "LayerNormalization": _channels_only,
    "Resizing": resizing,
    "CenterCrop": center_crop,
    "UpSampling2D": up_sampling,
    "Conv1D": conv1d,
    "DepthwiseConv2D": depthwise,
}
