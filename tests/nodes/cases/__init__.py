"""Spec test cases, one module per catalog family, each exposing ``CASES: dict[type_id, list[Case]]``.

Adding a layer type means adding one spec and at least one case here; the harness fails for a
registered spec without a case.
"""

from __future__ import annotations

import importlib
import pkgutil

from tests.nodes.spec_harness import Case


def all_cases() -> dict[str, list[Case]]:
    merged: dict[str, list[Case]] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for type_id, cases in module.CASES.items():
            merged.setdefault(type_id, []).extend(cases)
    return merged
