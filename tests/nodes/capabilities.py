"""Export capabilities with test limits, for badge and refusal tests that must not depend on which
limits the targets declare today."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from layerloom.nodes.export_capabilities import (
    ExportCapabilities,
    ExportLimit,
    default_capabilities,
)


def with_limits(overrides: Mapping[str, Mapping[str, ExportLimit]]) -> ExportCapabilities:
    """The registered declarations, where each type_id of ``overrides`` has exactly the given
    limits (limit key -> limit) and none of its declared ones."""
    declarations = []
    for declaration in default_capabilities().declarations():
        keys = []
        for limit_key in declaration.keys:
            nodes = {t: v for t, v in limit_key.nodes.items() if t not in overrides}
            nodes.update(
                {
                    t: limits[limit_key.key]
                    for t, limits in overrides.items()
                    if limit_key.key in limits
                }
            )
            keys.append(replace(limit_key, nodes=nodes))
        declarations.append(replace(declaration, keys=tuple(keys)))
    return ExportCapabilities(declarations)
