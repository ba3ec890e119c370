"""Fit a project's graph to its data (``nodes.adapt``), for the CLI and the GUI alike: a new
project made for a dataset, a dataset set on an existing project with its graph fitted, and the
"features differ in scale" warning at the start of training.

Everything is checked before anything is written: bad data leaves no project file behind and an
existing one byte for byte as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.nodes import training
from layerloom.nodes.adapt import Adaptation, adapt, scale_warnings
from layerloom.nodes.datasets import dataset_spec_for, open_source, store_dataset_spec
from layerloom.nodes.datasets.facts import DataFacts, read_facts
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.project import Project
from layerloom.nodes.registry import default_registry
from layerloom.nodes.templates import list_templates, load_template

Rule = tuple[Callable[[dict[str, Any], DataFacts], bool], str, str]


def _role(facts: DataFacts) -> str:
    return facts.inputs[0].role if facts.inputs else ""


def _rank(facts: DataFacts) -> int:
    return len(facts.inputs[0].shape) if facts.inputs else 0


# The starter template a new project takes for its data when no --template is given: the first
# rule that holds (data kind, then the rank of its examples, then the task).
TEMPLATE_RULES: tuple[Rule, ...] = (
    (lambda spec, facts: _role(facts) == "image", "small_cnn", "images"),
    (lambda spec, facts: _role(facts) == "tokens", "transformer_encoder", "token ids"),
    (lambda spec, facts: _rank(facts) == 2, "lstm_sequence", "sequences of feature vectors"),
    (lambda spec, facts: facts.task.task == "reconstruction", "dense_autoencoder", "no targets"),
    (lambda spec, facts: facts.task.task == "regression", "mlp_regressor", "tabular regression"),
    (lambda spec, facts: True, "mlp_classifier", "tabular classification"),
)


def template_for(spec: dict[str, Any], facts: DataFacts) -> tuple[str, str]:
    """(template name, why) for data that comes without a template."""
    if spec.get("kind") == "sample":  # a built-in sample has its own template
        for info in list_templates():
            if info.sample == spec.get("name"):
                return info.name, f"the template of sample '{info.sample}'"
    return next((name, why) for rule, name, why in TEMPLATE_RULES if rule(spec, facts))


def create_for_data(
    path: str | Path,
    spec: dict[str, Any],
    template: str | None = None,
    *,
    overwrite: bool = False,
) -> tuple[OpenProject, Adaptation, str, str | None]:
    """A new project whose graph (``template``'s, or one chosen for the data) fits ``spec``:
    (the open project, the adaptation, the template, why it was chosen when it was)."""
    registry = default_registry()
    why = None
    if template is None:
        facts = read_facts(open_source(spec), forced_task=spec.get("task"))
        template, why = template_for(spec, facts)
    graph = load_template(template, registry)
    adaptation = adapt(graph, registry, spec, name=Path(path).stem)
    adaptation.edit.apply(graph)
    # Only now the file: a bad dataset or template has left nothing behind.
    project = Project.create(path, overwrite=overwrite)
    opened = OpenProject(project, graph, registry)
    try:
        project.set_setting("template", template)
        store_dataset_spec(opened, adaptation.spec)
        training.save(project, adaptation.settings)
        opened.save(f"created from template {template}, fitted to {adaptation.facts.name}")
    except Exception:
        opened.close()
        raise
    return opened, adaptation, template, why


def adapt_project(opened: OpenProject, spec: dict[str, Any]) -> Adaptation:
    """The changes that fit the project's graph and settings to ``spec`` (nothing applied)."""
    settings = training.load(opened.project)
    return adapt(opened.graph, opened.registry, spec, settings, name=Path(opened.path).stem)


def apply_adaptation(opened: OpenProject, adaptation: Adaptation) -> int | None:
    """Apply the changes, store the dataset and settings; one graph version when the graph
    changed (its id, else None)."""
    edit = adaptation.edit
    edit.apply(opened.graph)
    store_dataset_spec(opened, adaptation.spec)
    if adaptation.setting_changes():
        training.save(opened.project, adaptation.settings)
    if edit.edits:
        return opened.save(f"fitted to {adaptation.facts.name}")
    return None


def scale_warnings_for(opened: OpenProject) -> list[str]:
    """The scale warning for the project's own dataset (none when it cannot be read: training
    then says why)."""
    try:
        source = open_source(dataset_spec_for(opened))
        return scale_warnings(opened.graph, opened.registry, source)
    except LayerloomError:
        return []
