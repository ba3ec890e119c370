"""Use cases shared by the GUI and the CLI: create/open a project, analyse, validate, summarise.

Everything here works on a saved project and a Graph; nothing imports Qt, and Keras is only imported
by the use cases that compile.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerloom.nodes.analysis import Analysis, Problem
from layerloom.nodes.compile import build_plan, describe
from layerloom.nodes.errors import ProjectFileError
from layerloom.nodes.freezing import param_split
from layerloom.nodes.graph import Graph
from layerloom.nodes.project import Project
from layerloom.nodes.registry import Registry, default_registry
from layerloom.nodes.serialize import graph_from_dict, graph_to_dict
from layerloom.nodes.templates import load_template


@dataclass
class OpenProject:
    """A project file with the graph of its latest version loaded."""

    project: Project
    graph: Graph
    registry: Registry
    version_id: int | None = None

    @property
    def path(self) -> Path:
        return self.project.path

    def save(self, message: str = "") -> int:
        self.version_id = self.project.save_graph(graph_to_dict(self.graph), message)
        return self.version_id

    def close(self) -> None:
        self.project.close()

    def __enter__(self) -> OpenProject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_project(
    path: str | Path, template: str | None = None, *, overwrite: bool = False
) -> OpenProject:
    registry = default_registry()
    # Load the template first: a bad template name must not leave an empty project file behind.
    graph = load_template(template, registry) if template else Graph()
    project = Project.create(path, overwrite=overwrite)
    if template:
        project.set_setting("template", template)
    opened = OpenProject(project, graph, registry)
    opened.save(f"created from template {template}" if template else "created")
    return opened


def open_project(
    path: str | Path, *, readonly: bool = False, keep_journal_mode: bool = False
) -> OpenProject:
    """Open a project; ``readonly`` for a command that only reads, which then leaves the file and
    its folder byte for byte as they were (and works on read-only files and folders);
    ``keep_journal_mode`` for one that writes a record and nothing else (``Project.open``)."""
    registry = default_registry()
    if readonly:
        project = Project.open_readonly(path)
    else:
        project = Project.open(path, keep_journal_mode=keep_journal_mode)
    try:
        latest = project.latest_graph()
        if latest is None:
            return OpenProject(project, Graph(), registry)
        version_id, data = latest
        try:
            graph = graph_from_dict(data, registry)
        except ProjectFileError as error:
            # The graph's own checks cannot know where it came from: name the file and version.
            raise ProjectFileError(f"{project.path}: graph version {version_id}: {error}") from None
        return OpenProject(project, graph, registry, version_id)
    except Exception:
        project.close()
        raise


@dataclass
class NodeReport:
    id: str
    name: str
    type: str
    params: dict[str, Any]
    inputs: list[str]
    shape: list[int | None] | None
    param_count: int | None
    problems: list[str] = field(default_factory=list)
    trainable: bool = True  # False: frozen (nodes.freezing)


@dataclass
class GraphReport:
    nodes: list[NodeReport]
    edges: list[dict[str, str]]
    total_params: int
    problems: list[dict[str, Any]]
    outputs: list[str]
    trainable_params: int = 0  # total_params split by the nodes' trainable flag
    frozen_params: int = 0

    @property
    def valid(self) -> bool:
        return not self.problems


def analyse(graph: Graph, registry: Registry) -> GraphReport:
    analysis = Analysis(graph, registry)
    try:
        problems = analysis.problems()
        by_node: dict[str | None, list[Problem]] = {}
        for problem in problems:
            by_node.setdefault(problem.node_id, []).append(problem)
        nodes = []
        for node_id in analysis.topological_order():
            node = graph.node(node_id)
            result = analysis.result(node_id)
            nodes.append(
                NodeReport(
                    id=node.id,
                    name=node.name,
                    type=node.type_id,
                    params=dict(node.params),
                    inputs=[graph.node(e.src).name for e in graph.in_edges(node_id)],
                    shape=None if result.shape is None else list(result.shape),
                    param_count=result.params,
                    problems=[p.message for p in by_node.get(node_id, [])],
                    trainable=node.trainable,
                )
            )
        split = param_split(graph, ((n.id, n.param_count) for n in nodes))
        names = {n.id: n.name for n in graph.nodes()}
        return GraphReport(
            nodes=nodes,
            edges=[
                {"src": names[e.src], "dst": names[e.dst], "port": e.port} for e in graph.edges()
            ],
            total_params=analysis.total_params,
            problems=[
                {
                    "node": names.get(p.node_id) if p.node_id else None,
                    "kind": p.kind,
                    "message": describe(graph, p),
                }
                for p in problems
            ],
            outputs=[names[i] for i in analysis.outputs()],
            trainable_params=split.trainable,
            frozen_params=split.frozen,
        )
    finally:
        analysis.close()


def keras_summary(graph: Graph, registry: Registry, name: str = "model") -> tuple[str, int]:
    """Compile with Keras; return Keras' own summary text and parameter count."""
    from layerloom.nodes.keras_build import build_model

    model = build_model(build_plan(graph, registry, name))
    buffer = io.StringIO()
    model.summary(print_fn=lambda line, *args, **kwargs: buffer.write(line + "\n"))
    return buffer.getvalue(), int(model.count_params())
