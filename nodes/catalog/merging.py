"""Merging layers: element-wise Add, Subtract, Multiply, Average, Maximum, Minimum, plus
Concatenate and Dot. They take several inputs (in0, in1, ...) and have no weights.
"""

from __future__ import annotations

from layerloom.nodes.catalog._shapes import fmt, keras_axis
from layerloom.nodes.errors import ShapeError
from layerloom.nodes.params import Bool, Int, Ints
from layerloom.nodes.spec import NodeSpec, Params, Shape, ShapeRule


def _broadcast_pair(first: Shape, second: Shape, what: str) -> Shape:
    """Keras' element-wise merge shape: right-aligned, a size of 1 stretches to the other size."""
    longer, shorter = (first, second) if len(first) >= len(second) else (second, first)
    if not shorter:
        return longer
    out: list[int | None] = list(longer[: len(longer) - len(shorter)])
    for a, b in zip(longer[len(longer) - len(shorter) :], shorter, strict=True):
        if a is None or b is None:
            # Keras does not refine an unknown size, not even against a known one.
            out.append(None)
        elif a == 1 or b == 1:
            out.append(a * b)
        elif a != b:
            raise ShapeError(
                f"{what} expects inputs of the same shape (or a size of 1 that broadcasts), "
                f"got {fmt(first)} and {fmt(second)}"
            )
        else:
            out.append(a)
    return tuple(out)


def _elementwise_rule(what: str) -> ShapeRule:
    def infer(params: Params, shapes: list[Shape]) -> Shape:
        out = shapes[0]
        for shape in shapes[1:]:
            out = _broadcast_pair(out, shape, what)
        return out

    return infer


def _elementwise_spec(name: str, doc: str, pair: bool = False) -> NodeSpec:
    return NodeSpec(
        type_id=f"keras.layers.{name}",
        category="merging",
        doc=doc,
        variadic_inputs=True,
        min_inputs=2,
        max_inputs=2 if pair else None,
        infer=_elementwise_rule(name),
        keras_class=name,
        call="list",
    )


def _concatenate_shape(params: Params, shapes: list[Shape]) -> Shape:
    first = shapes[0]
    if len({len(shape) for shape in shapes}) > 1:
        listed = ", ".join(fmt(shape) for shape in shapes)
        raise ShapeError(f"Concatenate expects inputs of the same rank, got {listed}")
    axis = keras_axis(params["axis"], first, "Concatenate")
    for index in range(len(first)):
        sizes = {shape[index] for shape in shapes} - {None}
        if index != axis and len(sizes) > 1:
            listed = ", ".join(fmt(shape) for shape in shapes)
            raise ShapeError(
                f"Concatenate on axis {params['axis']} expects inputs matching on every other "
                f"axis, got {listed}"
            )
    sizes = [shape[axis] for shape in shapes]
    joined = None if None in sizes else sum(sizes)
    # Keras takes the other sizes from the first input, even where it is unknown and others know.
    return (*first[:axis], joined, *first[axis + 1 :])


def _dot_shape(params: Params, shapes: list[Shape]) -> Shape:
    if len(shapes) != 2:
        raise ShapeError(f"Dot expects exactly 2 inputs, got {len(shapes)}")
    first, second = shapes
    a = keras_axis(params["axes"][0], first, "Dot on in0")
    b = keras_axis(params["axes"][1], second, "Dot on in1")
    # Keras compares the sizes exactly: an unknown size does not match a known one.
    if first[a] != second[b]:
        raise ShapeError(
            f"Dot expects equal sizes on the multiplied axes {tuple(params['axes'])}, got "
            f"{fmt(first)} and {fmt(second)}"
        )
    out = (*first[:a], *first[a + 1 :], *second[:b], *second[b + 1 :])
    return out or (1,)


SPECS = [
    _elementwise_spec("Add", "Adds its inputs element-wise (residual connections)."),
    _elementwise_spec("Subtract", "Subtracts in1 from in0 element-wise.", pair=True),
    _elementwise_spec("Multiply", "Multiplies its inputs element-wise (gating)."),
    _elementwise_spec("Average", "Averages its inputs element-wise."),
    _elementwise_spec("Maximum", "Element-wise maximum of its inputs."),
    _elementwise_spec("Minimum", "Element-wise minimum of its inputs."),
    NodeSpec(
        type_id="keras.layers.Concatenate",
        category="merging",
        doc="Joins its inputs along one axis; all other axes must match.",
        params=(Int("axis", -1, "Axis to join along: 1 = first after batch, -1 = last"),),
        variadic_inputs=True,
        min_inputs=2,
        infer=_concatenate_shape,
        keras_class="Concatenate",
        call="list",
    ),
    NodeSpec(
        type_id="keras.layers.Dot",
        category="merging",
        doc="Dot product of two inputs along one axis of each (batched matrix product).",
        params=(
            Ints(
                "axes",
                (-1, -1),
                "Axis of in0 and of in1 to multiply along: 1 = first after batch, -1 = last",
                length=2,
            ),
            Bool("normalize", False, "L2-normalize both inputs first (gives cosine similarity)"),
        ),
        variadic_inputs=True,
        min_inputs=2,
        max_inputs=2,
        infer=_dot_shape,
        keras_class="Dot",
        call="list",
    ),
]
