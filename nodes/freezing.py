"""Freezing: which nodes train, the reversible edit that changes it, and the parameter split.

A node's ``trainable`` flag lives on the ``Node`` (one source of truth, serialised in the graph
JSON only when false, ``nodes.serialize``); compile copies it into the ``BuildPlan`` and
``keras_build`` sets ``layer.trainable = False``, so training, health, export and every face see
the same thing. Keras 3 runs a non-trainable BatchNormalization in inference mode (its moving
mean and variance, never the batch's), which is what a frozen feature extractor needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from layerloom.nodes.graph import Graph

BATCH_NORM = "BatchNormalization"

FROZEN_NOTE = "Frozen: training leaves this node's weights as they are."
BATCH_NORM_NOTE = (
    "A frozen BatchNormalization runs in inference mode: it normalises with its moving mean and"
    " variance, never the batch's, and does not update them (Keras' rule for a non-trainable"
    " BatchNormalization)."
)


@dataclass
class SetTrainable:
    """Freeze (``trainable=False``) or unfreeze nodes as one undo step."""

    node_ids: list[str]
    trainable: bool
    _old: dict[str, bool] = field(default_factory=dict, repr=False)
    text: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            self.text = "Unfreeze" if self.trainable else "Freeze"

    def apply(self, graph: Graph) -> None:
        self._old = {i: graph.node(i).trainable for i in self.node_ids}
        for node_id in self.node_ids:
            if graph.node(node_id).trainable != self.trainable:
                graph.set_trainable(node_id, self.trainable)

    def revert(self, graph: Graph) -> None:
        for node_id, trainable in self._old.items():
            if graph.node(node_id).trainable != trainable:
                graph.set_trainable(node_id, trainable)


@dataclass(frozen=True)
class ParamSplit:
    trainable: int
    frozen: int

    @property
    def total(self) -> int:
        return self.trainable + self.frozen

    def text(self) -> str:
        """``1,234 params`` or ``1,234 params (1,000 trainable, 234 frozen)``."""
        if not self.frozen:
            return f"{self.total:,} params"
        return f"{self.total:,} params ({self.trainable:,} trainable, {self.frozen:,} frozen)"


def param_split(graph: Graph, counts: Iterable[tuple[str, int | None]]) -> ParamSplit:
    """``counts``: (node id, parameter count) pairs, e.g. from the analysis. A frozen node's
    parameters are frozen; the rest count as trainable (BatchNormalization's moving statistics
    included, which Keras' own summary lists as non-trainable in any case)."""
    trainable = frozen = 0
    for node_id, count in counts:
        if not count:
            continue
        if node_id in graph and not graph.node(node_id).trainable:
            frozen += count
        else:
            trainable += count
    return ParamSplit(trainable, frozen)


def frozen_count(graph: Graph) -> int:
    return sum(1 for node in graph.nodes() if not node.trainable)


def is_batch_norm(keras_class: str | None) -> bool:
    return keras_class == BATCH_NORM
