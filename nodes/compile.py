"""Stage one of compile: a valid graph becomes a BuildPlan (pure data, no TensorFlow).

Stage two, ``nodes.keras_build.build_model``, turns the plan into a ``keras.Model``. ``compile_model``
runs both for callers that want the model straight away.
"""

from __future__ import annotations

from typing import Any

from layerloom.nodes.analysis import Analysis
from layerloom.nodes.catalog.imported import placeholder_refusal
from layerloom.nodes.errors import CompileError
from layerloom.nodes.graph import Graph
from layerloom.nodes.naming import keras_name, keras_names
from layerloom.nodes.plan import BuildPlan, PlanInput, PlanLayer
from layerloom.nodes.registry import Registry


def build_plan(graph: Graph, registry: Registry, name: str = "model") -> BuildPlan:
    analysis = Analysis(graph, registry)
    try:
        problems = analysis.problems()
        if problems:
            raise CompileError(
                f"the graph has {len(problems)} problem(s); first: {describe(graph, problems[0])}",
                problems,
            )
        # Keras, TensorFlow and every export target see safe names; the plan maps them back.
        safe = keras_names([node.name for node in graph.nodes()])
        inputs: list[PlanInput] = []
        layers: list[PlanLayer] = []
        for node in map(graph.node, analysis.topological_order()):
            spec = registry[node.type_id]
            params = spec.normalize(node.params)
            if spec.is_input:
                inputs.append(PlanInput(safe[node.name], list(params["shape"]), params["dtype"]))
                continue
            if not spec.keras_class:  # an imported placeholder: nothing can run it
                raise CompileError(placeholder_refusal(node.name, params), [])
            edges = sorted(graph.in_edges(node.id), key=lambda e: spec.port_order(e.port))
            layers.append(
                PlanLayer(
                    name=safe[node.name],
                    type_id=spec.type_id,
                    class_name=spec.keras_class or "",
                    config=spec.to_keras_config(params),
                    call=spec.call,
                    inputs=[(e.port, safe[graph.node(e.src).name]) for e in edges],
                    trainable=node.trainable,
                )
            )
        outputs = [safe[graph.node(i).name] for i in analysis.outputs()]
        renamed = {new: old for old, new in safe.items() if new != old}
        return BuildPlan(keras_name(name), inputs, layers, outputs, node_names=renamed)
    finally:
        analysis.close()


def describe(graph: Graph, problem: Any) -> str:
    """One line for a problem: the node's name first, so the user knows where to look."""
    if problem.node_id is None or problem.node_id not in graph:
        return problem.message
    name = graph.node(problem.node_id).name
    # A name with a newline or other control character would break the one-line message.
    return f"{name if name.isprintable() else repr(name)}: {problem.message}"


def compile_model(graph: Graph, registry: Registry, name: str = "model") -> Any:
    from layerloom.nodes.keras_build import build_model

    return build_model(build_plan(graph, registry, name))
