"""Freezing: the flag round-trips through the file (format 2 only when used), compiles onto the
Keras layers, training leaves frozen weights bit-identical and a frozen BatchNormalization uses
its moving statistics."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.nodes.compile import build_plan
from layerloom.nodes.errors import ProjectFileError
from layerloom.nodes.freezing import SetTrainable, param_split
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.project import Project
from layerloom.nodes.serialize import graph_from_dict, graph_to_dict
from tests.nodes.builders import add, dense_chain, link


def test_unfrozen_graph_keeps_format_1_and_its_bytes(registry) -> None:
    graph, _ = dense_chain(registry, 2)
    data = graph_to_dict(graph)
    assert data["format"] == 1
    assert all("trainable" not in node for node in data["nodes"])


def test_trainable_round_trips_through_the_project_file(registry, tmp_path) -> None:
    graph, ids = dense_chain(registry, 2)
    SetTrainable([ids[1]], False).apply(graph)
    data = graph_to_dict(graph)
    assert data["format"] == 2
    assert [n.get("trainable", True) for n in data["nodes"]] == [True, False, True]
    path = tmp_path / "p.loom"
    with Project.create(path) as project:
        version = project.save_graph(data, "frozen")
    with Project.open_readonly(path) as project:
        latest = project.latest_graph()
    assert latest is not None and latest[0] == version
    loaded = graph_from_dict(latest[1], registry)
    assert not loaded.node(ids[1]).trainable and loaded.node(ids[2]).trainable
    assert graph_to_dict(loaded) == data


def test_an_old_layerloom_format_1_file_loads_all_trainable(registry) -> None:
    graph, ids = dense_chain(registry, 1)
    data = graph_to_dict(graph)
    assert all(n.trainable for n in graph_from_dict(data, registry).nodes())


def test_a_hand_edited_trainable_that_is_not_a_boolean_is_refused(registry) -> None:
    graph, _ = dense_chain(registry, 1)
    data = graph_to_dict(graph)
    data["nodes"][1]["trainable"] = "no"
    with pytest.raises(ProjectFileError, match="dense_0.*trainable='no'"):
        graph_from_dict(data, registry)


def test_set_trainable_is_one_reversible_edit_with_events(registry) -> None:
    graph, ids = dense_chain(registry, 3)
    graph.set_trainable(ids[2], False)
    seen = []
    graph.subscribe(lambda event: seen.append((event.kind, event.node_id)))
    edit = SetTrainable(ids[1:], False)
    edit.apply(graph)
    assert [n.trainable for n in graph.nodes()] == [True, False, False, False]
    assert seen == [("trainable_changed", ids[1]), ("trainable_changed", ids[3])]
    edit.revert(graph)
    assert [n.trainable for n in graph.nodes()] == [True, True, False, True]


def test_param_split(registry) -> None:
    graph, ids = dense_chain(registry, 2, width=4)
    graph.set_trainable(ids[1], False)
    split = param_split(graph, [(ids[0], 0), (ids[1], 20), (ids[2], 20)])
    assert (split.trainable, split.frozen, split.total) == (20, 20, 40)
    assert split.text() == "40 params (20 trainable, 20 frozen)"


def test_the_plan_carries_trainable_and_its_json_stays_as_before_without(registry) -> None:
    graph, ids = dense_chain(registry, 2)
    plain = build_plan(graph, registry).to_json()
    assert all("trainable" not in layer for layer in plain["layers"])
    graph.set_trainable(ids[1], False)
    plan = build_plan(graph, registry)
    assert [layer.trainable for layer in plan.layers] == [False, True]
    again = BuildPlan.from_json(plan.to_json())
    assert [layer.trainable for layer in again.layers] == [False, True]


def _bn_graph(registry):
    from layerloom.nodes.graph import Graph

    graph = Graph()
    x = add(graph, registry, "keras.Input", "x", shape=(4,))
    bn = add(graph, registry, "BatchNormalization", "bn")
    head = add(graph, registry, "Dense", "head", units=2, activation="softmax")
    link(graph, x, bn)
    link(graph, bn, head)
    return graph, bn, head


@pytest.mark.keras
def test_compile_gives_non_trainable_weights_and_frozen_bn_uses_moving_stats(
    keras_session, registry
) -> None:
    from layerloom.nodes.keras_build import build_model

    graph, bn, _ = _bn_graph(registry)
    graph.set_trainable(bn, False)
    model = build_model(build_plan(graph, registry))
    layer = model.get_layer("bn")
    assert layer.trainable is False and layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 4  # gamma, beta, moving mean and variance
    assert [w.name for w in model.trainable_weights] == ["kernel", "bias"]  # the head's
    layer.moving_mean.assign(np.full(4, 5.0, "float32"))
    layer.moving_variance.assign(np.full(4, 4.0, "float32"))
    data = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    out = layer(data, training=True).numpy()
    expected = (data - 5.0) / np.sqrt(4.0 + layer.epsilon)  # moving stats even with training=True
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 5.0)  # and never updated


@pytest.mark.keras
def test_training_leaves_frozen_weights_bit_identical(keras_session, registry) -> None:
    from layerloom.nodes.keras_build import build_model

    graph, bn, _ = _bn_graph(registry)
    graph.set_trainable(bn, False)
    model = build_model(build_plan(graph, registry))
    frozen = [w.numpy() for w in model.get_layer("bn").weights]
    head = [w.numpy() for w in model.get_layer("head").weights]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    model.fit(rng.normal(3, 2, (64, 4)), rng.integers(0, 2, 64), epochs=1, verbose=0)
    for before, after in zip(frozen, model.get_layer("bn").weights, strict=True):
        assert np.array_equal(before, after.numpy())
    assert any(
        not np.array_equal(b, a.numpy())
        for b, a in zip(head, model.get_layer("head").weights, strict=True)
    )
