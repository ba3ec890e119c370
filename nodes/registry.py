"""The node-spec registry.

Built-in specs register through the ``layerloom.nodes`` entry-point group, exactly as a third-party
plugin would: each entry point names a module attribute holding a sequence of NodeSpec.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib.metadata import entry_points

from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.spec import NodeSpec

ENTRY_POINT_GROUP = "layerloom.nodes"
CATEGORY_ORDER = (
    "inputs",
    "core",
    "convolution",
    "pooling",
    "normalization",
    "recurrent",
    "attention",
    "merging",
    "reshaping",
    "activation",
    "preprocessing",
)


class Registry:
    def __init__(self, specs: Iterable[NodeSpec] = ()) -> None:
        self._specs: dict[str, NodeSpec] = {}
        self._replaced: dict[str, str] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: NodeSpec) -> None:
        if spec.type_id in self._specs:
            raise LayerloomError(f"node type {spec.type_id!r} is registered twice")
        self._specs[spec.type_id] = spec
        for old in spec.replaces:
            self._replaced[old] = spec.type_id

    def resolve(self, type_id: str) -> str:
        """The current type id for ``type_id`` (follows ``replaces`` for renamed types)."""
        return type_id if type_id in self._specs else self._replaced.get(type_id, type_id)

    def get(self, type_id: str) -> NodeSpec | None:
        return self._specs.get(self.resolve(type_id))

    def __getitem__(self, type_id: str) -> NodeSpec:
        spec = self.get(type_id)
        if spec is None:
            raise LayerloomError(f"unknown node type {type_id!r}")
        return spec

    def __contains__(self, type_id: object) -> bool:
        return isinstance(type_id, str) and self.get(type_id) is not None

    def __len__(self) -> int:
        return len(self._specs)

    def categories(self) -> dict[str, list[NodeSpec]]:
        """Specs by category: the built-in families in a learning order, then plugin categories."""
        out: dict[str, list[NodeSpec]] = {}
        for spec in self:
            out.setdefault(spec.category, []).append(spec)
        return out

    def __iter__(self) -> Iterator[NodeSpec]:
        def rank(spec: NodeSpec) -> int:
            if spec.category in CATEGORY_ORDER:
                return CATEGORY_ORDER.index(spec.category)
            return len(CATEGORY_ORDER)

        return iter(sorted(self._specs.values(), key=rank))

    def search(self, text: str) -> list[NodeSpec]:
        needle = text.strip().lower()
        hits = [
            s for s in self._specs.values() if needle in s.label.lower() or needle in s.category
        ]
        return sorted(hits, key=lambda s: (not s.label.lower().startswith(needle), s.label))


def load_entry_point_specs() -> list[NodeSpec]:
    specs: list[NodeSpec] = []
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        specs.extend(entry_point.load())
    return specs


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    specs = load_entry_point_specs()
    if not specs:
        raise LayerloomError(
            "no node types are registered: install Layerloom (pip install -e .) so its entry points exist"
        )
    return Registry(specs)
