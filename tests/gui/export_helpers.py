"""Export capabilities with test limits, for badge and refusal tests that must not depend on which
limits the targets declare today."""

from __future__ import annotations

from layerloom.nodes.export_capabilities import ExportCapabilities
from layerloom.nodes.registry import default_registry
from tests.nodes.capabilities import with_limits

DROPOUT = "keras.layers.Dropout"
DENSE = "keras.layers.Dense"
HIGH_RATE_REASON = "dropout rates above 0.5 are not supported (test limit)"
WIDE_REASON = "more than 100 units (test limit)"


def _high_dropout(params, _shapes):
    return HIGH_RATE_REASON if params["rate"] > 0.5 else None


def _wide_dense(params, _shapes):
    return WIDE_REASON if params["units"] > 100 else None


def limited_capabilities(dense_limits=None) -> ExportCapabilities:
    """The declared limits with test ones: a Dropout above 0.5 cannot go to TF.js or TF Lite;
    Dense has ``dense_limits`` only (default: wider than 100 units cannot go to ONNX)."""
    if dense_limits is None:
        dense_limits = {"onnx": _wide_dense}
    return with_limits(
        {DROPOUT: {"tfjs": _high_dropout, "tflite": _high_dropout}, DENSE: dense_limits}
    )


def limited_document(capabilities=None):
    """An untitled mlp_classifier document whose badges follow ``capabilities`` (default:
    ``limited_capabilities()``); nothing refused yet."""
    from layerloom.app.gui.document import Document
    from layerloom.app.gui.export_compat import compatibility
    from layerloom.nodes.templates import load_template

    registry = default_registry()
    document = Document(registry=registry)
    source = load_template("mlp_classifier", registry)
    for node in source.nodes():
        document.graph.add_node(node)
    for edge in source.edges():
        document.graph.connect(edge)
    compatibility(document, capabilities or limited_capabilities())
    return document
