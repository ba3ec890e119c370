"""Every registered spec against the real Keras layer, through the shared harness."""

from __future__ import annotations

import pytest

from layerloom.nodes.registry import default_registry
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


def test_params_of_every_case_round_trip_through_the_project_file(tmp_path) -> None:
    """Each spec's case params survive save -> reopen exactly (tuples, None, floats, strings)."""
    from layerloom.nodes.graph import Graph, Node
    from layerloom.nodes.project import Project
    from layerloom.nodes.serialize import graph_from_dict, graph_to_dict

    registry = default_registry()
    graph = Graph()
    expected = {}
    for type_id, cases in CASES.items():
        spec = registry[type_id]
        for i, case in enumerate(cases):
            node_id = f"{spec.label}_{i}"
            params = spec.normalize(case.params)
            graph.add_node(Node(node_id, type_id, node_id, params, (i, 0.5), spec.version))
            expected[node_id] = params
    path = tmp_path / "all_params.loom"
    with Project.create(path) as project:
        project.save_graph(graph_to_dict(graph))
    with Project.open(path) as project:
        _, data = project.latest_graph()
    loaded = graph_from_dict(data, registry)
    assert {n.id: n.params for n in loaded.nodes()} == expected
