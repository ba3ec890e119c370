"""Look inside a model on a sample: ``layerloom inspect`` and the canvas previews.

Which weights: a run's (``run_choice.choose_run``: the named run, or the best finished run of the
current graph) with that run's graph, or, when the project has no trained run yet, the **initial
weights** of the current graph: the ones a new run would start from (the training settings'
seed), said so in ``reason``. The examples are raw files read as ``predict`` reads them (through
the input contract, ``backends.model_inputs``) or arrays already in the model's form (a sample of
the dataset, for the GUI). Everything that touches the project happens in ``prepare_*`` (the
caller's thread: the GUI's), the worker job in ``run_prepared`` (any thread), so a face never
waits on TensorFlow.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.run_choice import choose_run, run_contract
from layerloom.app.workbench.training import RESUME_STEM, _model_name, _plan_for
from layerloom.backends import records
from layerloom.backends.base import Backend
from layerloom.backends.protocol import Job, checkpoint_files
from layerloom.backends.registry import create_backend
from layerloom.nodes import training
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets.contract import InputContract, ModelInput
from layerloom.nodes.errors import DatasetError, LayerloomError
from layerloom.nodes.graph import Graph
from layerloom.nodes.plan import BuildPlan

ARRAYS_FILE = "examples.npz"
STATISTICS = ("min", "max", "mean", "std", "zero_fraction", "nonfinite_fraction")


@dataclass
class Prepared:
    """A worker job ready to start: everything read from the project already."""

    job: Job
    files: dict[str, bytes]
    reason: str  # which weights, one line
    run_id: int | None
    plan: BuildPlan
    contract: InputContract


@dataclass
class Inspection:
    reason: str
    run_id: int | None
    samples: int
    nodes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``--json``: exactly the statistics per node, in graph order."""
        keys = ("node", "type", "shape", *STATISTICS)
        return {"nodes": [{key: node[key] for key in keys} for node in self.nodes]}


def _dataset_spec(opened: OpenProject) -> dict[str, Any]:
    from layerloom.nodes.datasets import dataset_spec_for

    try:
        return dataset_spec_for(opened)
    except DatasetError:
        return {}


def contract_for(opened: OpenProject, plan: BuildPlan) -> InputContract:
    """How raw inputs become this model's inputs: the project's dataset's contract, or, when the
    project has no dataset that fits, arrays as they are (an .npz)."""
    from layerloom.app.workbench.predicting import input_contract_for

    try:
        return input_contract_for(opened, plan)[0]
    except DatasetError:
        inputs = [ModelInput(i.name, list(i.shape), i.dtype) for i in plan.inputs]
        return InputContract(kind="array", inputs=inputs, task="classification")


def choose_weights(
    opened: OpenProject,
    run_id: int | None = None,
    graph: Graph | None = None,
    initial: bool = False,
) -> tuple[BuildPlan, dict[str, Any], dict[str, bytes], str | None, str, int | None]:
    """(plan, settings, files, resume_from, reason, run id) for the weights meant.

    ``graph`` (the GUI's live graph): inspect that graph; a run's weights are used only when
    the run trained this very model, otherwise the graph's initial weights. ``initial``: the
    initial weights whatever runs there are."""
    chosen = None
    why_initial = "as asked" if initial else "no trained run yet"
    try:
        chosen = None if initial else choose_run(opened, run_id)
    except LayerloomError as error:
        if run_id is not None:
            raise
        why_initial = str(error).split(";")[0]
    current = build_plan(graph or opened.graph, opened.registry, _model_name(opened))
    if chosen is not None:
        plan = _plan_for(opened, chosen.summary.graph_version_id)
        if graph is None or plan.to_json() == current.to_json():
            settings = training.resolve(records.training_settings(chosen.summary.settings))
            weights, optimizer = checkpoint_files(RESUME_STEM)
            files = {str(weights): chosen.checkpoint["weights"], str(optimizer): b""}
            return plan, settings, files, RESUME_STEM, chosen.reason, chosen.run_id
        why_initial = f"the graph changed since run {chosen.run_id}"
    settings = training.resolve(training.load(opened.project))
    reason = f"the initial weights (seed {settings['seed']}; {why_initial})"
    return current, settings, {}, None, reason, None


def prepare(
    opened: OpenProject,
    kind: str,
    inputs: list[str | Path] | None = None,
    arrays: dict[str, np.ndarray] | None = None,
    run_id: int | None = None,
    graph: Graph | None = None,
    options: dict[str, Any] | None = None,
    initial: bool = False,
) -> Prepared:
    """An ``inspect`` or ``explain`` job on raw ``inputs`` (files) or ready ``arrays`` (one per
    Input, by its Keras name). Refusals (a missing file, a CSV for an image model, no such run)
    come here, before any worker starts."""
    from layerloom.backends.model_inputs import collect

    plan, settings, files, resume_from, reason, chosen = choose_weights(
        opened, run_id, graph, initial
    )
    recorded = run_contract(records.summaries(opened.project.conn, chosen)[0]) if chosen else None
    contract = recorded or contract_for(opened, plan)  # a run reads inputs as it trained
    options = {**(options or {}), "contract": contract.to_json()}
    options.setdefault("class_names", contract.class_names)
    if arrays is not None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        files = {**files, ARRAYS_FILE: buffer.getvalue()}
        options["arrays"] = ARRAYS_FILE
    else:
        options["inputs"] = [source.to_json() for source in collect(list(inputs or []), contract)]
    job = Job(
        run_id=chosen or 0,
        plan=plan.to_json(),
        dataset=_dataset_spec(opened),
        settings=settings,
        kind=kind,
        resume_from=resume_from,
        base_dir=str(opened.path.resolve().parent),
        options=options,
    )
    return Prepared(job, files, reason, chosen, plan, contract)


@dataclass(frozen=True)
class Example:
    """One example of the project's dataset, as a face offers it to ``prepare``."""

    name: str  # how to show it: "digits #3", "cats/img_01.png"
    count: int  # how many examples the dataset has
    arrays: dict[str, np.ndarray] | None = None  # already as the model takes them, batch of 1
    file: str | None = None  # or a file to read through the input contract (image folders)


def dataset_example(opened: OpenProject, graph: Graph, index: int) -> Example:
    """Example ``index`` (0-based, wrapping around) of the project's dataset for ``graph``'s
    model. DatasetError when there is no dataset or it does not fit the graph."""
    from layerloom.nodes.datasets import dataset_spec_for, open_source
    from layerloom.nodes.datasets.images import ImageFolderSource
    from layerloom.nodes.datasets.memory import InMemorySource

    plan = build_plan(graph, opened.registry, _model_name(opened))
    source = open_source(dataset_spec_for(opened), opened.path.resolve().parent)
    if isinstance(source, ImageFolderSource):
        files = source.listing().files
        rel = files[index % len(files)]
        return Example(rel, len(files), file=str(source.require_path(folder=True) / rel))
    if isinstance(source, InMemorySource):
        fitted = source.fit(plan)
        count = len(next(iter(fitted.inputs.values())))
        chosen = index % count
        arrays = {name: array[chosen : chosen + 1] for name, array in fitted.inputs.items()}
        return Example(f"{source.name} #{chosen + 1}", count, arrays=arrays)
    raise DatasetError(f"a {source.kind} dataset offers no examples here; drop a file instead")


def run_prepared(prepared: Prepared, result_key: str, backend: Backend | None = None) -> Any:
    """Start the job in a worker and wait for its ``result``; the worker's one-line reason on
    failure. Safe off the GUI thread: it touches no project."""
    handle = (backend or create_backend()).start(prepared.job, prepared.files)
    try:
        found = None
        for event in handle.events():
            if event["type"] == "result":
                found = event.get(result_key)
            elif event["type"] == "failed":
                raise LayerloomError(f"{prepared.job.kind} failed: {event['reason']}")
        if found is None:
            raise LayerloomError(f"{prepared.job.kind} ended without a result")
        return found
    finally:
        handle.close()  # interrupted while waiting: leave no worker and no folder behind


def file_name(name: str) -> str:
    """A node or input name as a file name: its own characters, path separators and control
    characters replaced."""
    cleaned = re.sub(r'[\x00-\x1f/\\:*?"<>|]', "_", name).strip(" .")
    return cleaned or "_"


def inspect(
    opened: OpenProject,
    inputs: list[str | Path],
    run_id: int | None = None,
    node: str | None = None,
    maps_dir: str | Path | None = None,
    backend: Backend | None = None,
) -> Inspection:
    """Every node's output statistics for ``inputs``; ``node``: only that node's; ``maps_dir``:
    the feature-map grid of every picture-shaped output written there as ``NODE.png``."""
    prepared = prepare(opened, "inspect", inputs, run_id=run_id, options={"maps": bool(maps_dir)})
    names = [prepared.plan.display(i.name) for i in prepared.plan.inputs]
    names += [prepared.plan.display(step.name) for step in prepared.plan.layers]
    if node is not None and node not in names:
        raise LayerloomError(f"the model has no node '{node}' (nodes: {', '.join(names)})")
    found = run_prepared(prepared, "inspection", backend)
    nodes = [n for n in found["nodes"] if node is None or n["node"] == node]
    if maps_dir is not None:
        folder = Path(maps_dir)
        folder.mkdir(parents=True, exist_ok=True)
        from layerloom.nodes.png import write_bytes

        for record in nodes:
            if "map_png" in record:
                import base64

                path = folder / f"{file_name(record['node'])}.png"
                record["map_file"] = str(write_bytes(path, base64.b64decode(record["map_png"])))
    return Inspection(prepared.reason, prepared.run_id, int(found["samples"]), nodes)
