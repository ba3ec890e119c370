"""Fit a graph to a dataset: the changes that make it take the data and predict its target.

``adapt(graph, registry, spec, settings)`` reads the data's facts (``nodes.datasets.facts``) and
returns an ``Adaptation``: one line per change and the graph edits (``nodes.edits``) that make
it, so the CLI applies them and saves one graph version, and the GUI pushes them as one undo step.
The graph passed in is not touched: the steps run on a copy. What changes:

- each Input's shape (images: height, width and channels; a CSV: its feature count after one-hot
  encoding; an ``.npz``: the array's example shape) and, for features, a float dtype;
- the preprocessing right after an Input, when none is there: ``Rescaling(1/255)`` for images,
  ``Normalization`` (adapted on the training split before training) for numeric features;
- the output Dense: classes get a softmax over one unit per class, two classes included (two
  units, not one sigmoid unit, so evaluation, top-K predictions and the exports' top-1 treat every
  classifier alike); regression gets one linear unit per target value;
- the training loss and metrics, set to concrete values for the task (a loss that already suits
  the task is kept).

After the steps the result is compiled and checked against the data; a graph that still does not
fit (an output that is not a Dense, images into an MLP) is refused with the check's own message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from layerloom.nodes import training
from layerloom.nodes.analysis import Analysis
from layerloom.nodes.compile import build_plan
from layerloom.nodes.datasets import DataInfo, open_source
from layerloom.nodes.datasets.facts import DataFacts, InputFacts, read_facts, scale_problem
from layerloom.nodes.edits import AddNode, Composite, Connect, Disconnect, Edit, SetParams
from layerloom.nodes.errors import CompileError, DatasetError, LayerloomError
from layerloom.nodes.graph import Edge, Graph, Node, new_id
from layerloom.nodes.naming import keras_names
from layerloom.nodes.registry import Registry
from layerloom.nodes.spec import format_shape

RESCALING = "keras.layers.Rescaling"
NORMALIZATION = "keras.layers.Normalization"
DENSE = "keras.layers.Dense"
DEFAULT_IMAGE_SIDE = 64  # images of varied sizes into an Input that has no size of its own


@dataclass(frozen=True)
class Preprocessing:
    type_id: str
    name: str  # the new node's name (made unique in the graph)
    params: dict[str, Any]
    why: str
    accepted: tuple[str, ...]  # node types that already do the job when found after the Input


# What an input's role needs right after its Input node.
PREPROCESSING: dict[str, Preprocessing] = {
    "image": Preprocessing(
        RESCALING, "rescale", {"scale": 1 / 255}, "pixels 0..255 to 0..1, inside the model",
        (RESCALING, NORMALIZATION),
    ),
    "numeric": Preprocessing(
        NORMALIZATION, "normalize", {}, "features to mean 0, variance 1, adapted on the training"
        " split", (NORMALIZATION,),
    ),
}  # fmt: skip

# The loss and metrics each task trains with, and the losses that already suit it.
TASK_SETTINGS: dict[str, dict[str, str]] = {
    "classification": {"loss": "sparse_categorical_crossentropy", "metrics": "accuracy"},
    "regression": {"loss": "mean_squared_error", "metrics": "mae"},
    "reconstruction": {"loss": "mean_squared_error", "metrics": "mae"},
}
SUITED_LOSSES: dict[str, tuple[str, ...]] = {
    "classification": ("sparse_categorical_crossentropy",),
    "regression": ("mean_squared_error", "mean_absolute_error", "huber"),
    "reconstruction": ("mean_squared_error", "mean_absolute_error", "huber"),
}
SUITED_METRICS: dict[str, frozenset[str]] = {
    "classification": frozenset({"accuracy", "auc", "precision", "recall"}),
    "regression": frozenset({"mae", "mse", "rmse"}),
    "reconstruction": frozenset({"mae", "mse", "rmse"}),
}


@dataclass(frozen=True)
class Change:
    text: str  # one line, naming the node or setting
    edits: tuple[Edit, ...] = ()  # the graph edits; () for a training setting
    setting: tuple[str, Any] | None = None  # (name, new value) of a training setting
    needed: bool = True  # False: only makes an "auto" setting concrete, training is the same


@dataclass
class Adaptation:
    spec: dict[str, Any]  # the dataset spec, with the chosen task
    facts: DataFacts
    changes: list[Change]
    settings: dict[str, Any]  # the full training settings after the changes
    info: DataInfo  # the data checked against the fitted graph
    notes: list[str] = field(default_factory=list)

    @property
    def task_line(self) -> str:
        return self.facts.task.line()

    @property
    def edit(self) -> Composite:
        return Composite(
            [edit for change in self.changes for edit in change.edits],
            text="Fit the graph to the data",
        )

    @property
    def needed(self) -> bool:
        """Whether the graph or how it trains changes (not only "auto" made concrete)."""
        return any(change.needed for change in self.changes)

    def lines(self) -> list[str]:
        return [change.text for change in self.changes] or ["the graph already fits the data"]

    def setting_changes(self) -> dict[str, Any]:
        return dict(change.setting for change in self.changes if change.setting)


@dataclass
class _Work:
    graph: Graph  # the copy the steps edit
    registry: Registry
    facts: DataFacts
    inputs: dict[str, str]  # Keras name of each Input -> its node id
    settings: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def change(self, text: str, *edits: Edit) -> None:
        for edit in edits:
            edit.apply(self.graph)
        self.changes.append(Change(text, tuple(edits)))


def copy_graph(graph: Graph) -> Graph:
    """A graph with the same nodes and edges (the same ids), for trying edits out of sight."""
    copy = Graph()
    for node in graph.nodes():
        copy.add_node(node)
    for edge in graph.edges():
        copy.connect(edge)
    return copy


def input_nodes(graph: Graph, registry: Registry) -> dict[str, str]:
    """Keras name (as ``BuildPlan.inputs`` has it) -> node id of every Input node."""
    safe = keras_names([node.name for node in graph.nodes()])
    return {
        safe[node.name]: node.id
        for node in graph.nodes()
        if (spec := registry.get(node.type_id)) is not None and spec.is_input
    }


def input_dtypes(graph: Graph, registry: Registry, inputs: dict[str, str]) -> dict[str, str]:
    return {
        key: str(
            registry[graph.node(node_id).type_id].normalize(graph.node(node_id).params)["dtype"]
        )
        for key, node_id in inputs.items()
    }


def preprocessing_after(graph: Graph, registry: Registry, input_id: str) -> list[Node]:
    """The chain of preprocessing nodes right after an Input (each the only successor)."""
    chain, node_id = [], input_id
    while len(successors := graph.successors(node_id)) == 1:
        node = graph.node(successors[0])
        spec = registry.get(node.type_id)
        if spec is None or spec.category != "preprocessing":
            break
        chain.append(node)
        node_id = node.id
    return chain


def _shape_text(shape: Any) -> str:
    return format_shape(list(shape))


# --- the steps ----------------------------------------------------------------------------------


def _wanted_shape(current: list[Any], facts: InputFacts) -> list[int]:
    """The data's shape, with the graph's own size where the data has none (varied images)."""
    if all(size is not None for size in facts.shape):
        return list(facts.shape)
    fixed = len(current) == len(facts.shape) and all(isinstance(s, int) for s in current)
    return [
        size if size is not None else (current[i] if fixed else DEFAULT_IMAGE_SIDE)
        for i, size in enumerate(facts.shape)
    ]


def _problem_count(work: _Work) -> int:
    analysis = Analysis(work.graph, work.registry)
    try:
        return len(analysis.problems())
    finally:
        analysis.close()


def fit_inputs(work: _Work) -> None:
    for facts in work.facts.inputs:
        node = work.graph.node(work.inputs[facts.name])
        params = work.registry[node.type_id].normalize(node.params)
        dtype = params["dtype"] if facts.role == "tokens" else "float32"
        shape = _wanted_shape(list(params["shape"]), facts)
        why = facts.why
        if facts.role == "image" and None not in facts.shape and shape != list(params["shape"]):
            # Images the graph cannot take at their own size (too small for its pooling, say)
            # are resized to the graph's size instead, as images of varied sizes are.
            before = _problem_count(work)
            trial = SetParams(node.id, {**params, "shape": shape, "dtype": dtype})
            trial.apply(work.graph)
            worse = _problem_count(work) > before
            trial.revert(work.graph)
            if worse:
                facts = replace(facts, shape=(None, None, facts.shape[-1]))
                shape = _wanted_shape(list(params["shape"]), facts)
                why += ", too small for this graph"
        if None in facts.shape:
            why += f": resized to the Input's {'x'.join(str(s) for s in shape[:-1])}"
        if list(params["shape"]) == shape and params["dtype"] == dtype:
            if None in facts.shape:
                work.notes.append(f"Input '{node.name}': {why}")
            continue
        what = f"shape {_shape_text(params['shape'])} -> {_shape_text(shape)}"
        if dtype != params["dtype"]:
            what += f", dtype {params['dtype']} -> {dtype}"
        edit = SetParams(node.id, {**params, "shape": shape, "dtype": dtype})
        work.change(f"Input '{node.name}': {what}; {why}", edit)


def add_preprocessing(work: _Work) -> None:
    for facts in work.facts.inputs:
        wanted = PREPROCESSING.get(facts.role)
        if wanted is None:
            continue
        input_id = work.inputs[facts.name]
        chain = preprocessing_after(work.graph, work.registry, input_id)
        if any(node.type_id in wanted.accepted for node in chain):
            continue
        work.change(
            f"add {wanted.type_id.rsplit('.', 1)[-1]} after Input"
            f" '{work.graph.node(input_id).name}' ({wanted.why})",
            *_insert_after(work, input_id, wanted),
        )


def _insert_after(work: _Work, input_id: str, wanted: Preprocessing) -> list[Edit]:
    graph, spec = work.graph, work.registry[wanted.type_id]
    source = graph.node(input_id)
    outgoing = graph.out_edges(input_id)
    # Between the Input and the node it fed, so the auto-layout's order still reads top down.
    after = graph.node(outgoing[0].dst).pos if outgoing else (source.pos[0], source.pos[1] + 120)
    pos = ((source.pos[0] + after[0]) / 2, (source.pos[1] + after[1]) / 2)
    node = Node(
        new_id(), spec.type_id, graph.unique_name(wanted.name), spec.normalize(wanted.params),
        pos, spec.version,
    )  # fmt: skip
    edits: list[Edit] = [AddNode(node)]
    for edge in outgoing:
        edits += [Disconnect(edge), Connect(Edge(node.id, edge.dst, edge.port))]
    edits.append(Connect(Edge(input_id, node.id, spec.input_ports(0)[0])))
    return edits


def _output_wanted(work: _Work) -> tuple[int | None, str | None, str]:
    """(units, activation, why) the task asks of the output layer (None: leave as it is)."""
    facts, task = work.facts, work.facts.task.task
    if task == "classification":
        names = facts.class_names
        if len(names) < 2:
            raise DatasetError(
                f"{facts.name}: the target has {len(names)} class(es); a classifier needs two"
            )
        listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return len(names), "softmax", f"{len(names)} classes: {listed}"
    if task == "regression":
        width = facts.target_width or 1
        return width, "linear", f"{width} target value{'s' if width > 1 else ''} per example"
    shape = facts.inputs[0].shape if facts.inputs else ()
    if len(shape) == 1 and shape[0] is not None:
        return shape[0], None, "the input is its own target"
    return None, None, ""


def _fit_dense(work: _Work, node: Node) -> None:
    units, activation, why = _output_wanted(work)
    params = work.registry[node.type_id].normalize(node.params)
    new = dict(params)
    if units is not None:
        new["units"] = units
    if activation is not None:
        new["activation"] = activation
    if new == params:
        return
    parts = []
    if new["units"] != params["units"]:
        parts.append(f"units {params['units']} -> {new['units']}")
    if new["activation"] != params["activation"]:
        parts.append(f"activation {params['activation']} -> {new['activation']}")
    work.change(f"output '{node.name}': {', '.join(parts)} ({why})", SetParams(node.id, new))


# Output node type -> how it is fitted to the task; other types are left as they are (and the
# check afterwards says whether they fit).
OUTPUT_FITTERS: dict[str, Callable[[_Work, Node], None]] = {DENSE: _fit_dense}


def fit_output(work: _Work) -> None:
    analysis = Analysis(work.graph, work.registry)
    try:
        outputs = analysis.outputs()
    finally:
        analysis.close()
    if len(outputs) != 1:
        raise DatasetError(
            f"the model has {len(outputs)} outputs; a dataset feeds one, so fit them by hand"
        )
    node = work.graph.node(outputs[0])
    fitter = OUTPUT_FITTERS.get(node.type_id)
    if fitter is None:
        work.notes.append(f"output '{node.name}' is not a Dense layer: left as it is")
        return
    fitter(work, node)


def fit_training(work: _Work) -> None:
    task = work.facts.task.task
    settings = work.settings
    wanted = dict(TASK_SETTINGS[task])
    if settings["loss"] in SUITED_LOSSES[task]:
        wanted["loss"] = settings["loss"]
    chosen = training.parse_metrics(settings["metrics"])
    if chosen and set(chosen) <= SUITED_METRICS[task]:
        wanted["metrics"] = settings["metrics"]
    for name in ("loss", "metrics"):
        old, new = settings[name], wanted[name]
        if old == new:
            continue
        needed = old != "auto" or not _same_as_auto(work, name, new)
        work.settings = {**work.settings, name: new}
        work.changes.append(
            Change(f"training {name}: {old} -> {new} (for {task})", (), (name, new), needed)
        )


def _same_as_auto(work: _Work, name: str, value: str) -> bool:
    """Whether "auto" would already train with ``value`` on the fitted graph."""
    try:
        plan = build_plan(work.graph, work.registry)
    except CompileError:
        return False
    task = work.facts.task.task
    loss = training.resolve_loss({**work.settings, "loss": "auto"}, plan, task)
    if name == "loss":
        return loss == value
    # More metrics than auto's (mse beside mae) report more; the training stays the same.
    chosen = training.resolve_metrics({**work.settings, "metrics": "auto"}, loss)
    return set(chosen) <= set(training.parse_metrics(value) or [])


STEPS: tuple[Callable[[_Work], None], ...] = (
    fit_inputs,
    add_preprocessing,
    fit_output,
    fit_training,
)


# --- the use case -------------------------------------------------------------------------------


def adapt(
    graph: Graph,
    registry: Registry,
    spec: dict[str, Any],
    settings: dict[str, Any] | None = None,
    base_dir: str | Path | None = None,
    name: str = "model",
) -> Adaptation:
    """The changes that fit ``graph`` to the data ``spec`` describes (its ``task``, when given,
    is the user's choice); DatasetError with one line when the data or the graph cannot fit."""
    source = open_source(spec, base_dir)
    inputs = input_nodes(graph, registry)
    if not inputs:
        raise DatasetError("the graph has no Input node for the data to feed")
    facts = read_facts(source, list(inputs), input_dtypes(graph, registry, inputs))
    work = _Work(copy_graph(graph), registry, facts, inputs, training.resolve(settings))
    for step in STEPS:
        step(work)
    fitted = {**spec, "task": facts.task.task}
    try:
        plan = build_plan(work.graph, registry, name)
        info = open_source(fitted, base_dir).check(plan)
    except LayerloomError as error:
        # The check's message names the data (or the node) already.
        raise DatasetError(f"the graph cannot be fitted to this data by itself: {error}") from None
    return Adaptation(fitted, facts, work.changes, work.settings, info, work.notes)


def scale_warnings(
    graph: Graph, registry: Registry, source: Any, fix: str = "`layerloom data --adapt` adds one"
) -> list[str]:
    """One line per Input whose numeric features differ in scale more than 100x with no
    Normalization right after it (in-memory sources only: the others have no columns)."""
    from layerloom.nodes.datasets.memory import InMemorySource

    if not isinstance(source, InMemorySource):
        return []
    inputs = input_nodes(graph, registry)
    if not inputs:
        return []
    try:
        facts = read_facts(source, list(inputs), input_dtypes(graph, registry, inputs))
    except LayerloomError:
        return []  # the data's own check says what is wrong with it
    found = []
    for item in facts.inputs:
        problem = scale_problem(item)
        chain = preprocessing_after(graph, registry, inputs[item.name])
        if problem and not any(node.type_id == NORMALIZATION for node in chain):
            name = graph.node(inputs[item.name]).name
            found.append(
                f"warning: {problem} and no Normalization sits after Input '{name}'; {fix}"
            )
    return found
