"""Export limits: the targets declare what they refuse per node type (``export_capabilities``),
the graph reports which nodes block which targets, before any converter runs (pure Python, no
TensorFlow)."""

from __future__ import annotations

import subprocess
import sys

from layerloom.exporters.registry import default_exporters
from layerloom.nodes.export_capabilities import ExportCapabilities, default_capabilities
from layerloom.nodes.export_support import refusals
from layerloom.nodes.graph import Graph
from layerloom.nodes.registry import Registry, default_registry
from tests.nodes.builders import add, link
from tests.nodes.capabilities import with_limits


def capabilities_with_limits() -> ExportCapabilities:
    """The declared limits, with two of the two kinds (fixed, and shape-dependent) made sure."""

    def fixed_length(params, shapes):
        return "needs a fixed sequence length" if shapes and shapes[0][0] is None else None

    return with_limits(
        {
            "keras.layers.MultiHeadAttention": {"tfjs": "not in tfjs"},
            "keras.layers.LSTM": {"tflite": fixed_length},
        }
    )


def lstm_graph(registry: Registry, steps: int | None) -> tuple[Graph, str]:
    graph = Graph()
    source = add(graph, registry, "keras.Input", "seq", shape=(steps, 3))
    lstm = add(graph, registry, "LSTM", "lstm", units=4)
    link(graph, source, lstm)
    return graph, lstm


def test_a_shape_dependent_limit_follows_the_graph() -> None:
    registry, capabilities = default_registry(), capabilities_with_limits()
    graph, lstm = lstm_graph(registry, None)
    # (TF Lite Micro refuses the open Input itself: it is asked about in test_micro)
    found = refusals(graph, registry, ["tflite", "tfjs"], capabilities=capabilities)
    assert [(r.node_id, r.key) for r in found] == [(lstm, "tflite")]
    assert found[0].message == (
        "node 'lstm' (LSTM) cannot go to TF Lite: needs a fixed sequence length"
    )
    fixed, _ = lstm_graph(registry, 12)
    assert refusals(fixed, registry, capabilities=capabilities) == []


def test_only_the_asked_keys_are_checked() -> None:
    registry = default_registry()
    graph, _ = lstm_graph(registry, None)
    assert (
        refusals(graph, registry, ["onnx", "tfjs"], capabilities=capabilities_with_limits()) == []
    )


def test_every_target_declares_its_limits_and_the_exporter_owns_the_same_declaration() -> None:
    """The registry is filled from the ``layerloom.export_limits`` entry points; each exporter's
    ``limits`` is that very object, so the badge and the converter read one declaration."""
    capabilities = default_capabilities()
    registry = default_registry()
    for exporter in default_exporters():
        declared = capabilities.target(exporter.target)
        assert declared is not None and declared is exporter.limits, exporter.target
        assert exporter.target in declared.limit_keys(exporter.resolve_options({}))
    for key in capabilities.keys():
        declaration = capabilities.limit_key(key)
        assert declaration.label and declaration.badge
        unknown = set(declaration.nodes) - {spec.type_id for spec in registry}
        assert not unknown, f"{key} limits unknown node types {unknown}"


def test_options_bring_in_their_declared_keys() -> None:
    tflite = default_exporters()["tflite"]
    int8 = tflite.resolve_options({"quantization": "int8"})
    assert tflite.limit_keys(int8) == ("tflite", "tflite.int8")
    assert tflite.needs_calibration(int8) and not tflite.needs_calibration({})
    assert default_capabilities().label("tflite.int8") == "TF Lite (int8)"
    assert default_capabilities().badge("tflite.int8") == "INT8"


def test_badges_and_refusals_never_import_tensorflow() -> None:
    """The canvas badges run in the GUI process: loading every declaration and judging a graph
    must not import TensorFlow, Keras or a converter."""
    code = (
        "import sys\n"
        "from layerloom.nodes.export_support import refusals\n"
        "from layerloom.nodes.registry import default_registry\n"
        "from layerloom.nodes.templates import load_template\n"
        "registry = default_registry()\n"
        "for name in ('small_cnn', 'lstm_sequence', 'transformer_encoder'):\n"
        "    refusals(load_template(name, registry), registry)\n"
        "heavy = {'tensorflow', 'keras', 'tf2onnx', 'onnx', 'onnxruntime', 'ai_edge_litert'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stderr


def token_graph(registry: Registry, mask_zero: bool, *, sequences: bool | None) -> Graph:
    """ids -> Embedding [-> LSTM(return_sequences)] -> GlobalAveragePooling1D -> Dense."""
    graph = Graph()
    ids = add(graph, registry, "keras.Input", "ids", shape=(6,), dtype="int32")
    embed = add(graph, registry, "Embedding", "embed", input_dim=20, output_dim=4,
                mask_zero=mask_zero)  # fmt: skip
    last = embed
    link(graph, ids, embed)
    if sequences is not None:
        lstm = add(graph, registry, "LSTM", "lstm", units=4, return_sequences=sequences)
        link(graph, last, lstm)
        last = lstm
    if sequences is not False:
        pooled = add(graph, registry, "GlobalAveragePooling1D", "pooled")
        link(graph, last, pooled)
        last = pooled
    head = add(graph, registry, "Dense", "head", units=2)
    link(graph, last, head)
    return graph


def test_tfjs_refuses_the_node_that_would_mishandle_a_padding_mask() -> None:
    registry = default_registry()
    masked = token_graph(registry, True, sequences=None)
    found = [r for r in refusals(masked, registry) if r.key == "tfjs"]
    assert [r.message for r in found] == [
        "node 'pooled' (GlobalAveragePooling1D) cannot go to TF.js: TF.js does not apply the "
        "padding mask of 'embed' (Embedding mask_zero=True) here as Keras does"
    ]
    # The mask travels through a recurrent layer that returns sequences, to the pooling.
    through = token_graph(registry, True, sequences=True)
    assert [r.node_name for r in refusals(through, registry, ["tfjs"])] == ["pooled"]


def test_tfjs_takes_a_padding_mask_that_a_recurrent_layer_consumes() -> None:
    registry = default_registry()
    assert refusals(token_graph(registry, True, sequences=False), registry, ["tfjs"]) == []
    assert refusals(token_graph(registry, False, sequences=None), registry, ["tfjs"]) == []
