"""The layer reference (Help ▸ Layer Reference), generated from the node registry and the export
targets' declared limits, so it can never disagree with the palette or an export's refusal.

Per node type: what it does, its parameters with defaults and help, its inputs, its shape rule
shown on an example (the rule itself is code), and per export target whether the node goes there.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerloom.nodes.export_capabilities import LimitKey, default_capabilities
from layerloom.nodes.registry import default_registry
from layerloom.nodes.spec import NodeSpec, Shape, format_shape

# Inputs the shape rule is shown on, tried in this order until one is accepted: a vector, a
# sequence, an image, a volume (the ranks the layers take).
EXAMPLE_INPUTS: tuple[Shape, ...] = ((16,), (10, 16), (28, 28, 3), (8, 28, 28, 3))
EVERY_NODE = "yes"


@dataclass(frozen=True)
class ParamRow:
    name: str
    default: str
    help: str


@dataclass(frozen=True)
class LayerEntry:
    type_id: str
    label: str
    category: str
    doc: str
    params: tuple[ParamRow, ...]
    inputs: str  # the ports, or how many inputs a merging node takes
    shape_rule: str  # an example: "(28, 28, 3) -> (26, 26, 32) with the defaults"
    exports: tuple[tuple[str, str], ...]  # (target label, "yes" or why not)


def _inputs(spec: NodeSpec) -> str:
    if spec.is_input:
        return "none (a graph input)"
    if spec.variadic_inputs:
        most = "any number" if spec.max_inputs is None else str(spec.max_inputs)
        return f"{spec.min_inputs} to {most}, in order"
    return ", ".join(p.name + (" (optional)" if p.optional else "") for p in spec.inputs)


def _input_count(spec: NodeSpec) -> int:
    if spec.variadic_inputs:
        return max(2, spec.min_inputs)
    return len([p for p in spec.inputs if not p.optional])


def _shape_rule(spec: NodeSpec) -> tuple[str, list[Shape]]:
    """The rule on the first example input it accepts, and the shapes it was shown on."""
    params = spec.defaults()
    if spec.is_input:
        try:
            return f"outputs {format_shape(spec.infer(params, []))} with the defaults", []
        except Exception:  # noqa: BLE001 - any rule failure means "no example", not a crash
            return "the shape set in its parameters", []
    for example in EXAMPLE_INPUTS:
        shapes = [example] * _input_count(spec)
        try:
            out = spec.infer(params, shapes)
        except Exception:  # noqa: BLE001 - a rejected example: try the next rank
            continue
        given = " and ".join(format_shape(s) for s in shapes)
        same = " (same shape)" if tuple(out) == tuple(example) else ""
        return f"{given} → {format_shape(out)}{same} with the defaults", shapes
    return "depends on its inputs (see the editor's shape on each edge)", []


def _verdict(key: LimitKey, spec: NodeSpec, shapes: list[Shape]) -> str:
    limit = key.nodes.get(spec.type_id)
    if limit is None:
        return EVERY_NODE
    if isinstance(limit, str):
        return f"no: {limit}"
    try:
        reason = limit(spec.defaults(), shapes)
    except Exception:  # noqa: BLE001 - a rule that needs other shapes: say it depends
        reason = None
    if reason:
        return f"not with the defaults: {reason}"
    return "yes, with limits on some settings (the editor's badges check yours)"


def _exports(spec: NodeSpec, shapes: list[Shape], targets: tuple[str, ...]) -> list:
    capabilities = default_capabilities()
    rows = []
    for target in targets:
        declared = capabilities.target(target)
        keys = declared.keys if declared is not None else ()
        if not keys:
            rows.append((target, EVERY_NODE))
        for key in keys:
            rows.append((key.label, _verdict(key, spec, shapes)))
    return rows


def layer_reference(targets: tuple[str, ...] | None = None) -> list[LayerEntry]:
    """Every registered node type, in the palette's order."""
    from layerloom.app.workbench.export_targets import target_names

    names = targets if targets is not None else target_names()
    entries = []
    for spec in default_registry():
        rule, shapes = _shape_rule(spec)
        entries.append(
            LayerEntry(
                type_id=spec.type_id,
                label=spec.label,
                category=spec.category,
                doc=spec.doc,
                params=tuple(
                    ParamRow(p.name, repr(p.default) if p.default is not None else "not set", p.doc)
                    for p in spec.params
                ),
                inputs=_inputs(spec),
                shape_rule=rule,
                exports=tuple(_exports(spec, shapes, names)),
            )
        )
    return entries
