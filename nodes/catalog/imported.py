"""The placeholder an import leaves for a Keras layer no spec maps: a custom class, a ``Lambda``.

It keeps the layer's class and config, and takes its output shape and parameter count from what the
imported file recorded, so the graph shows, shape-checks and validates around it. Nothing can run
it: compile refuses it by name (``placeholder_refusal``), so training and export refuse too.
"""

from __future__ import annotations

from typing import Any

from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import Int, Ints, Param, Str
from layerloom.nodes.spec import NodeSpec, Params, Shape

PLACEHOLDER = "layerloom.ImportedLayer"


def _recorded_shape(params: Params, shapes: list[Shape]) -> Shape:
    if params["output_shape"] is None:
        raise ShapeError(
            f"the imported {params['class_name']} layer's output shape was not recorded"
        )
    return tuple(params["output_shape"])


def placeholder_refusal(name: str, params: dict[str, Any]) -> str:
    """Why a placeholder stops compile (and so training and export), naming the node."""
    return (
        f"node '{name}' is a placeholder for the imported {params.get('class_name')} layer "
        f"({params.get('reason')}); it cannot be trained or exported: replace it with nodes"
    )


SPECS = [
    NodeSpec(
        type_id=PLACEHOLDER,
        category="imported",
        doc="An imported Keras layer without a node type; kept, shown and shape-checked, never run.",
        params=(
            Str("class_name", "Layer", "The Keras class it was imported from"),
            Param("config", None, "The layer's Keras config, as the file held it", optional=True),
            Ints(
                "output_shape",
                None,
                "Its output shape as recorded (no batch)",
                optional=True,
                allow_none=True,
            ),
            Int("parameters", 0, "Its parameter count as recorded", min=0),
            Str("reason", "", "Why no node type maps it"),
        ),
        variadic_inputs=True,
        min_inputs=1,
        infer=_recorded_shape,
        count_params=lambda params, shapes: params["parameters"],
    ),
]
