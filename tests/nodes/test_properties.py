"""Property-based: generated graphs, parameter values and damaged project files thrown at load,
validate, compile (BuildPlan) and save (issue 15). The only outcomes allowed are success or a
documented user error (a LayerloomError subclass), and a refused operation leaves the project
file's bytes as they were. Bounded (max_examples, no deadline) to add well under a minute."""

from __future__ import annotations

import copy
import hashlib
import json
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerloom.app.workbench import open_project
from layerloom.nodes.analysis import Analysis
from layerloom.nodes.compile import build_plan
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.naming import is_keras_safe, keras_name
from layerloom.nodes.project import Project
from layerloom.nodes.registry import default_registry
from layerloom.nodes.serialize import graph_from_dict, graph_to_dict
from layerloom.nodes.templates import load_template

REGISTRY = default_registry()

TEMPLATE = graph_to_dict(load_template("mlp_classifier", REGISTRY))
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**15), 10**15)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.text(min_size=0, max_size=16)


@st.composite
def damaged_graphs(draw) -> object:
    """The template's graph with a few of its names, params, types and edges replaced. (A graph
    that is not an object at all is issue 15 item 10, tested with its fix.)"""
    data = copy.deepcopy(TEMPLATE)
    nodes, edges = data["nodes"], data["edges"]
    for _ in range(draw(st.integers(1, 4))):
        node = draw(st.sampled_from(nodes))
        what = draw(st.sampled_from(["name", "param", "type", "edge", "drop"]))
        if what == "name":
            node["name"] = draw(names)
        elif what == "param" and node["params"]:
            key = draw(st.sampled_from(sorted(node["params"])))
            node["params"][key] = draw(values)
        elif what == "type":
            node["type"] = draw(st.sampled_from([n["type"] for n in nodes] + ["no.such.Type"]))
        elif what == "edge" and edges:
            edge = draw(st.sampled_from(edges))
            edge[draw(st.sampled_from(["src", "dst", "port"]))] = draw(
                st.sampled_from([n["id"] for n in nodes] + ["x", "nowhere"])
            )
        elif what == "drop" and len(nodes) > 1:
            nodes.remove(node)
    return data


@SETTINGS
@given(damaged_graphs())
def test_any_graph_loads_validates_compiles_or_is_refused(data) -> None:
    try:
        graph = graph_from_dict(data, REGISTRY)  # type: ignore[arg-type]
        analysis = Analysis(graph, REGISTRY)
        try:
            problems = analysis.problems()
        finally:
            analysis.close()
        plan = build_plan(graph, REGISTRY, "café")
    except LayerloomError as error:
        assert str(error) and "\n" not in str(error).strip()
        return
    assert not problems
    names_used = [i.name for i in plan.inputs] + [layer.name for layer in plan.layers]
    assert all(is_keras_safe(name) for name in [plan.name, *names_used])
    assert len(set(names_used)) == len(names_used)
    assert {plan.display(n) for n in names_used} == {n.name for n in graph.nodes()}


@settings(max_examples=200, deadline=None)
@given(names)
def test_keras_names_are_safe_deterministic_and_keep_safe_names(name) -> None:
    assert is_keras_safe(keras_name(name)) and keras_name(name) == keras_name(name)
    if is_keras_safe(name):
        assert keras_name(name) == name


@SETTINGS
@given(damaged_graphs())
def test_save_then_load_gives_the_same_graph(tmp_path: Path, data) -> None:
    try:
        graph = graph_from_dict(data, REGISTRY)  # type: ignore[arg-type]
    except LayerloomError:
        return
    path = tmp_path / "saved.loom"
    path.unlink(missing_ok=True)
    with Project.create(path) as project:
        project.save_graph(graph_to_dict(graph), "generated")
    with open_project(path) as opened:
        assert graph_to_dict(opened.graph) == graph_to_dict(graph)


def _project_bytes(folder: Path) -> bytes:
    path = folder / "good.loom"
    if not path.exists():
        with Project.create(path) as project:
            project.save_graph(TEMPLATE, "template")
    return path.read_bytes()


def _stored_graph_bytes(folder: Path, graph: bytes, *, matching_checksum: bool) -> bytes:
    """A sound project file whose stored graph is ``graph`` (any bytes, UTF-8 or not), stored as
    TEXT as Layerloom stores it, with its checksum updated to match when asked (so the checks
    behind the checksum are reached)."""
    path = folder / "stored.loom"
    path.unlink(missing_ok=True)
    path.write_bytes(_project_bytes(folder))
    conn = sqlite3.connect(path)
    try:
        digest = hashlib.sha256(graph).hexdigest() if matching_checksum else "0" * 64
        conn.execute(
            "UPDATE graph_versions SET graph = CAST(? AS TEXT), sha256 = ?", [graph, digest]
        )
        conn.commit()
    finally:
        conn.close()
    return path.read_bytes()


not_an_object = values.filter(lambda v: not isinstance(v, dict))
stored_graphs = (
    st.binary(max_size=40)  # mostly not UTF-8
    | not_an_object.map(lambda v: json.dumps(v).encode())  # JSON, but not a graph object
    | st.sampled_from([b'{"nodes": [', b"\xff\xfe{}", b'{"format": "2"}', b'{"nodes": 1}'])
)


@SETTINGS
@given(st.data())
def test_a_damaged_project_file_opens_or_is_refused_unchanged(tmp_path: Path, data) -> None:
    good = _project_bytes(tmp_path)
    damage = data.draw(st.sampled_from(["truncate", "flip", "garbage", "json", "stored graph"]))
    if damage == "truncate":
        damaged = good[: data.draw(st.integers(0, len(good) - 1))]
    elif damage == "flip":
        damaged = bytearray(good)
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(0, len(good) - 1))
            damaged[at] = data.draw(st.integers(0, 255))
        damaged = bytes(damaged)
    elif damage == "garbage":
        damaged = data.draw(st.binary(max_size=300))
    elif damage == "json":
        damaged = json.dumps(data.draw(values)).encode()
    else:
        stored = data.draw(stored_graphs)
        damaged = _stored_graph_bytes(tmp_path, stored, matching_checksum=data.draw(st.booleans()))
    path = tmp_path / "damaged.loom"
    path.write_bytes(damaged)
    try:
        with open_project(path) as opened:
            Analysis(opened.graph, opened.registry).close()
    except LayerloomError as error:
        assert str(error)
        assert path.read_bytes() == damaged  # a refusal changes nothing
        if damage == "stored graph":  # a damaged stored graph is named by file and version
            assert str(error).startswith(f"{path}: graph version 1")
    finally:
        for extra in ("-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
