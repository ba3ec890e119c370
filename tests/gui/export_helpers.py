"""A registry whose specs declare export limits, for badge and refusal tests that must not depend
on which limits the catalog declares today."""

from __future__ import annotations

from dataclasses import replace

from layerloom.nodes.registry import Registry, default_registry

DROPOUT = "keras.layers.Dropout"
DENSE = "keras.layers.Dense"
HIGH_RATE_REASON = "dropout rates above 0.5 are not supported (test limit)"
WIDE_REASON = "more than 100 units (test limit)"


def _high_dropout(params, _shapes):
    return HIGH_RATE_REASON if params["rate"] > 0.5 else None


def _wide_dense(params, _shapes):
    return WIDE_REASON if params["units"] > 100 else None


def limited_registry(dense_limits=None) -> Registry:
    """The default catalog with test limits: a Dropout above 0.5 cannot go to TF.js or TF Lite;
    Dense gets ``dense_limits`` (default: wider than 100 units cannot go to ONNX)."""
    if dense_limits is None:
        dense_limits = {"onnx": _wide_dense}
    specs = []
    for spec in default_registry():
        if spec.type_id == DROPOUT:
            spec = replace(spec, export_limits={"tfjs": _high_dropout, "tflite": _high_dropout})
        elif spec.type_id == DENSE:
            spec = replace(spec, export_limits=dense_limits)
        specs.append(spec)
    return Registry(specs)


def limited_document(registry=None):
    """An untitled mlp_classifier document over ``limited_registry`` (nothing refused yet)."""
    from layerloom.app.gui.document import Document
    from layerloom.nodes.templates import load_template

    registry = registry or limited_registry()
    document = Document(registry=registry)
    source = load_template("mlp_classifier", registry)
    for node in source.nodes():
        document.graph.add_node(node)
    for edge in source.edges():
        document.graph.connect(edge)
    return document
