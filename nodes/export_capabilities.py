"""What each export target takes per node: one registry, filled from the targets' own declarations.

An export target declares its limits next to its exporter (``exporters/*_limits.py``): the limit
keys it brings into play (its own, and keys its options add, such as TF Lite's int8), a label and a
badge for each, per node type a fixed reason or a rule over (params, input shapes), and rules over
several nodes. The declarations register through the ``layerloom.export_limits`` entry-point group
and are plain Python, so loading them never imports TensorFlow: the editor's badges run in the GUI
process. The export worker's converters read the same declarations, so a badge and an export cannot
disagree about a declared limit; ``tests/exporters/test_capabilities.py`` holds every declaration
against the real converters and runtimes.

This module knows no target by name: every key, label and rule comes from a declaration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from layerloom.nodes.spec import Params, Shape

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "layerloom.export_limits"

# Why a node cannot go to an export target: a fixed reason, or a rule over its params and input
# shapes that returns the reason (None when this configuration is fine).
ExportLimit = str | Callable[[Params, list[Shape]], str | None]


@dataclass(frozen=True)
class GraphStep:
    """One node as a rule over several nodes sees it. Graphs (in the editor) and build plans (in
    the exporter) both describe themselves so, which is how the two apply the same rule."""

    key: str  # unique per step: a node id or a layer name
    name: str  # what messages call it: the node's name
    kind: str  # the Keras class name
    sources: tuple[str, ...]  # the keys of the steps feeding it
    params: Mapping[str, Any]  # the node's params (or the layer's config)


@dataclass(frozen=True)
class GraphRule:
    """A limit that other nodes decide (a padding mask set upstream): an edit elsewhere can add or
    clear it, so the editor re-asks after any edit while ``triggers`` holds for some node."""

    # (key of a refused step, reason) for every step the rule refuses
    find: Callable[[Sequence[GraphStep]], list[tuple[str, str]]]
    # whether a node of this kind with these (raw) params brings the rule into play
    triggers: Callable[[str, Params], bool]


@dataclass(frozen=True)
class LimitKey:
    """One set of limits of a target: ``key`` names it in refusals ("tflite", "tflite.int8")."""

    key: str
    label: str  # how messages name the target: "TF Lite (int8)"
    badge: str  # the canvas badge's few letters: "INT8"
    nodes: Mapping[str, ExportLimit] = field(default_factory=dict)  # type_id -> limit
    graph_rules: tuple[GraphRule, ...] = ()
    # The options that bring this key into play: option name -> the values that do. Empty: the
    # key always applies to its target.
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def applies(self, options: Mapping[str, Any]) -> bool:
        return all(options.get(name) in values for name, values in self.when.items())

    def refusal(self, type_id: str, params: Params, shapes: list[Shape]) -> str | None:
        limit = self.nodes.get(type_id)
        if limit is None or isinstance(limit, str):
            return limit
        return limit(params, shapes)


@dataclass(frozen=True)
class NodeFootprint:
    """One node as a target's estimate sees it, from the editor's shape inference alone."""

    name: str
    kind: str  # the Keras class name
    input_shapes: tuple[Shape, ...]
    shape: Shape | None  # its output shape (batch dimension first)
    params: int


# Figures a target can give before exporting (a microcontroller's flash and RAM), one line each,
# from the graph alone; the export measures them.
Estimate = Callable[[Sequence[NodeFootprint]], list[str]]


@dataclass(frozen=True)
class TargetLimits:
    """What one export target (an exporter's ``target``) cannot take, per limit key, and what it
    can say about a graph before exporting it."""

    target: str
    keys: tuple[LimitKey, ...]
    rank: int = 100  # badges and refusals list targets by rank, then by name
    estimate: Estimate | None = None

    def limit_keys(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The keys that resolved ``options`` bring into play."""
        return tuple(k.key for k in self.keys if k.applies(options))


class ExportCapabilities:
    """Every declared limit key, by key; what the editor's badges and the export's up-front
    refusal ask."""

    def __init__(self, declarations: Iterable[TargetLimits]) -> None:
        self._targets: dict[str, TargetLimits] = {}
        self._keys: dict[str, LimitKey] = {}
        for declaration in sorted(declarations, key=lambda d: (d.rank, d.target)):
            self._targets[declaration.target] = declaration
            for limit_key in declaration.keys:
                if limit_key.key in self._keys:
                    raise ValueError(f"two export targets declare the limit key {limit_key.key!r}")
                self._keys[limit_key.key] = limit_key
        self._limited = {type_id for k in self._keys.values() for type_id in k.nodes}
        self._rules = tuple(rule for k in self._keys.values() for rule in k.graph_rules)

    def keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def declarations(self) -> tuple[TargetLimits, ...]:
        return tuple(self._targets.values())

    def target(self, name: str) -> TargetLimits | None:
        return self._targets.get(name)

    def estimate(self, target: str, footprints: Sequence[NodeFootprint]) -> list[str]:
        """The lines ``target`` gives about a graph before exporting it (none for most)."""
        declared = self._targets.get(target)
        if declared is None or declared.estimate is None:
            return []
        return declared.estimate(footprints)

    def limit_key(self, key: str) -> LimitKey | None:
        return self._keys.get(key)

    def label(self, key: str) -> str:
        found = self._keys.get(key)
        return found.label if found is not None else key

    def badge(self, key: str) -> str:
        found = self._keys.get(key)
        return found.badge if found is not None else key.split(".")[-1].upper()[:4]

    def limited(self, type_id: str) -> bool:
        """Whether some key declares a limit for this node type (else its edits need no rescan)."""
        return type_id in self._limited

    def refusal(self, key: str, type_id: str, params: Params, shapes: list[Shape]) -> str | None:
        """Why a node of ``type_id`` cannot go to ``key`` (None when it can, or the key is unknown)."""
        found = self._keys.get(key)
        return found.refusal(type_id, params, shapes) if found is not None else None

    def graph_refusals(
        self, steps: Sequence[GraphStep], keys: Iterable[str]
    ) -> list[tuple[str, str, str]]:
        """(step key, limit key, reason) for every step a rule over several nodes refuses."""
        found = []
        for key in keys:
            limit_key = self._keys.get(key)
            for rule in limit_key.graph_rules if limit_key is not None else ():
                found += [(step, key, reason) for step, reason in rule.find(steps)]
        return found

    def rules_triggered(self, nodes: Iterable[tuple[str, Params]]) -> bool:
        """Whether a rule over several nodes is in play for these (kind, params) nodes."""
        if not self._rules:
            return False
        return any(rule.triggers(kind, params) for kind, params in nodes for rule in self._rules)


def _load(entry_point: Any) -> TargetLimits | None:
    try:
        loaded = entry_point.load()
    except ImportError as error:
        # A broken plugin's limits are unknown; its exporter reports it unavailable, and the other
        # targets keep theirs.
        log.warning("export limits of %s could not be loaded: %s", entry_point.name, error)
        return None
    if not isinstance(loaded, TargetLimits):
        log.warning("export limits of %s are not a TargetLimits", entry_point.name)
        return None
    return loaded


@lru_cache(maxsize=1)
def default_capabilities() -> ExportCapabilities:
    """The registered targets' declarations (``layerloom.export_limits`` entry points)."""
    found = [_load(ep) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return ExportCapabilities(d for d in found if d is not None)
