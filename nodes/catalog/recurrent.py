"""Recurrent layers: LSTM, GRU, SimpleRNN and Bidirectional (one of them run in both directions).

They read a sequence (time, features); the time axis may be of unknown length. The output is the
last step (units,) or, with return_sequences, every step (time, units).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from layerloom.nodes.catalog._shapes import fmt, require_known
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import ACTIVATIONS, MAX_WIDTH, Bool, Choice, Float, Int, Param
from layerloom.nodes.spec import NodeSpec, ParamCounter, Params, Shape, ShapeRule

CELLS = ("LSTM", "GRU", "SimpleRNN")
_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
MERGE_MODES = ("concat", "sum", "mul", "ave")  # Keras' None returns two tensors: not one output

UNITS = Int(
    "units", 32, "Size of the hidden state (output features per step)", min=1, max=MAX_WIDTH
)
ACTIVATION = Choice("activation", "tanh", "Activation of the cell output", choices=ACTIVATIONS)
RETURN_SEQUENCES = Bool("return_sequences", False, "Output every step, not only the last one")
DROPOUT = Float("dropout", 0.0, "Fraction of the inputs to drop while training", min=0.0, max=0.99)
RECURRENT_DROPOUT = Float(
    "recurrent_dropout",
    0.0,
    "Fraction of the recurrent state to drop while training",
    min=0.0,
    max=0.99,
)
UNROLL = Bool("unroll", False, "Unroll the time loop (needs a known length; faster for short ones)")
USE_BIAS = Bool("use_bias", True, "Add learned biases")
RECURRENT_PARAMS = (UNITS, ACTIVATION, RETURN_SEQUENCES, DROPOUT, RECURRENT_DROPOUT, UNROLL)


def cell_weights(cell: str, units: int, features: int, use_bias: bool, reset_after: bool) -> int:
    """Weights of one recurrent layer: per gate an input kernel, a recurrent kernel and biases."""
    # GRU with reset_after (Keras' default, cuDNN's layout) keeps separate input and recurrent biases.
    biases = (2 if cell == "GRU" and reset_after else 1) if use_bias else 0
    return _GATES[cell] * units * (features + units + biases)


def _sequence_rule(what: str, output_units: Callable[[Params], int]) -> ShapeRule:
    """Shape rule for a layer reading (time, features); ``output_units(params)`` = output size."""

    def infer(params: Params, shapes: list[Shape]) -> Shape:
        (shape,) = shapes
        if len(shape) != 2:
            raise ShapeError(
                f"{what} expects a sequence (time, features) without batch, got {fmt(shape)}"
            )
        require_known(shape[1], f"{what}'s input feature size")
        if params["unroll"] and shape[0] is None:
            # Keras builds the model, but tracing it with an unknown length (export) fails.
            raise ShapeError(
                f"{what} with unroll=True needs a known sequence length, got {fmt(shape)}"
            )
        units = output_units(params)
        return (shape[0], units) if params["return_sequences"] else (units,)

    return infer


def _recurrent_counter(cell: str) -> ParamCounter:
    def count(params: Params, shapes: list[Shape]) -> int:
        features = shapes[0][-1] or 0
        reset_after = params.get("reset_after", True)
        return cell_weights(cell, params["units"], features, params["use_bias"], reset_after)

    return count


def _recurrent_spec(cell: str, doc: str, extra: tuple[Param, ...] = ()) -> NodeSpec:
    return NodeSpec(
        type_id=f"keras.layers.{cell}",
        category="recurrent",
        doc=doc,
        params=(*RECURRENT_PARAMS, USE_BIAS, *extra),
        infer=_sequence_rule(cell, lambda params: params["units"]),
        count_params=_recurrent_counter(cell),
        keras_class=cell,
    )


def _bidirectional_units(params: Params) -> int:
    return params["units"] * (2 if params["merge_mode"] == "concat" else 1)


def _bidirectional_params(params: Params, shapes: list[Shape]) -> int:
    # The wrapped layer keeps Keras' defaults for the parameters not exposed here.
    features = shapes[0][-1] or 0
    return 2 * cell_weights(params["layer"], params["units"], features, True, True)


def _bidirectional_config(params: Params) -> dict[str, Any]:
    # The nested layer needs "module" or Keras refuses to deserialize it.
    inner = {p.name: params[p.name] for p in RECURRENT_PARAMS}
    layer = {"module": "keras.layers", "class_name": params["layer"], "config": inner}
    return {"layer": layer, "merge_mode": params["merge_mode"]}


SPECS = [
    _recurrent_spec("LSTM", "Long short-term memory: a gated recurrent layer for long sequences."),
    _recurrent_spec(
        "GRU",
        "Gated recurrent unit: like LSTM with fewer gates and weights.",
        extra=(
            Bool(
                "reset_after",
                True,
                "Apply the reset gate after the recurrent product (Keras and cuDNN default)",
            ),
        ),
    ),
    _recurrent_spec("SimpleRNN", "Fully connected recurrent layer: the output is fed back in."),
    NodeSpec(
        type_id="keras.layers.Bidirectional",
        category="recurrent",
        doc="Runs a recurrent layer forwards and backwards over the sequence and merges the two.",
        params=(
            Choice("layer", "LSTM", "Recurrent layer to run in both directions", choices=CELLS),
            *RECURRENT_PARAMS,
            Choice(
                "merge_mode",
                "concat",
                "How the two directions combine (concat doubles the features)",
                choices=MERGE_MODES,
            ),
        ),
        infer=_sequence_rule("Bidirectional", _bidirectional_units),
        count_params=_bidirectional_params,
        keras_class="Bidirectional",
        keras_config=_bidirectional_config,
    ),
]
