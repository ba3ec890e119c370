"""Every registered spec against the real Keras layer, through the shared harness."""

from __future__ import annotations

import pytest

from nodes.registry import default_registry
from tests.nodes.cases import all_cases
from tests.nodes.spec_harness import run_spec_case

CASES = all_cases()
PARAMETRIZED = [
    pytest.param(type_id, case, id=f"{type_id.rsplit('.', 1)[-1]}-{i}")
    for type_id, cases in sorted(CASES.items())
    for i, case in enumerate(cases)
]


def test_every_registered_spec_has_a_case() -> None:
    missing = sorted(s.type_id for s in default_registry() if s.type_id not in CASES)
    assert missing == [], f"specs without a harness case: {missing}"


def test_every_case_names_a_registered_spec() -> None:
    unknown = sorted(t for t in CASES if t not in default_registry())
    assert unknown == []


@pytest.mark.keras
@pytest.mark.parametrize(("type_id", "case"), PARAMETRIZED)
def test_spec_matches_keras(type_id: str, case, keras_session) -> None:
    run_spec_case(default_registry()[type_id], case)
