"""Import a Keras model as a new project: its graph, and its weights as the starting point.

``import_model`` runs the ``import`` job (``backends.keras_import``) in a worker process: the file is
loaded without running its code and turned into a graph there, the graph compiled and given the
file's weights. Here the new project is written: the graph as its first version and, when the source
had weights and every layer mapped onto a node, an imported run (``records.insert_imported``:
status ``imported``, backend ``import``, one checkpoint at epoch 0) that evaluate, predict, export
and fine-tuning use at once. ``ImportReport`` is what the faces print: sizes, placeholders and what
they block, and notes on anything changed on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.backends import records
from layerloom.backends.base import Backend
from layerloom.backends.keras_import import APPLICATIONS
from layerloom.backends.protocol import Job, checkpoint_files
from layerloom.backends.registry import create_backend
from layerloom.nodes.analysis import Analysis
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.project import Project
from layerloom.nodes.registry import default_registry
from layerloom.nodes.serialize import graph_from_dict

# The applications the round-trip tests hold to the graph (any other keras.applications name is
# tried the same way); the GUI offers these.
APPLICATION_NAMES = (
    "MobileNetV2",
    "MobileNetV3Small",
    "ResNet50",
    "DenseNet121",
    "EfficientNetB0",
    "InceptionV3",
    "Xception",
    "VGG16",
    "NASNetMobile",
    "ConvNeXtTiny",
)
BLOCKS = "training and export"  # what a placeholder stops: compile refuses it


@dataclass(frozen=True)
class ImportReport:
    source: str
    path: Path
    nodes: int
    edges: int
    params: int  # of the graph (a placeholder counts what the file recorded)
    placeholders: list[tuple[str, str, str]]  # (node, Keras class, what it blocks, and why)
    run_id: int | None  # the imported starting point; None without weights or with placeholders
    max_abs_error: float | None = None  # graph's model vs the loaded one, where Keras loaded it
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"imported {self.source} into {self.path.name}: {self.nodes} nodes, "
            f"{self.edges} connections, {self.params:,} parameters"
        ]
        if self.max_abs_error is not None:
            out.append(
                f"predictions match the source model (max abs error {self.max_abs_error:.2g})"
            )
        if self.run_id is not None:
            out.append(
                f"its weights are run {self.run_id} (imported): evaluate, predict, export and "
                "fine-tune from it"
            )
        elif not self.placeholders:
            out.append("no weights came with it: train it, or import with --weights FILE")
        if self.placeholders:
            out.append(f"{len(self.placeholders)} placeholder node(s), never run:")
            out += [f"  {node} ({cls}) blocks {why}" for node, cls, why in self.placeholders]
        out += [f"note: {note}" for note in self.notes]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "project": str(self.path),
            "nodes": self.nodes,
            "edges": self.edges,
            "params": self.params,
            "placeholders": [
                {"node": node, "class_name": cls, "blocks": why}
                for node, cls, why in self.placeholders
            ],
            "run_id": self.run_id,
            "max_abs_error": self.max_abs_error,
            "notes": list(self.notes),
        }


def _source(source: str | Path) -> str:
    text = str(source)
    if text.startswith(APPLICATIONS):
        return text
    path = Path(text).expanduser()
    if not path.is_file():
        raise LayerloomError(f"{text}: no such file")
    return str(path.resolve())  # the worker runs in its own folder


def import_model(
    source: str | Path,
    out_path: str | Path,
    *,
    input_shape: tuple[int, ...] | list[int] | None = None,
    classes: int | None = None,
    weights: str | Path | None = None,
    overwrite: bool = False,
    backend: Backend | None = None,
    device: str = "auto",
) -> ImportReport:
    """Import ``source`` (a ``.keras``/``.h5`` file or ``keras.applications.NAME``) as the new
    project ``out_path``. LayerloomError, before anything is written, when it cannot.

    ``device``: the devices the worker sees. A local backend hands the job to the GUI's warm worker
    (``backends.warm``, TensorFlow already imported) only when it was started for this device, so
    the GUI passes the warm worker's (``warm_worker.device_for``)."""
    target = Path(out_path)
    if target.exists() and not overwrite:
        raise LayerloomError(f"{target} already exists (add --overwrite to replace it)")
    resolved = _source(source)
    if weights is not None and not resolved.startswith(APPLICATIONS):
        raise LayerloomError("--weights goes with --from keras.applications.NAME only")
    options: dict[str, Any] = {
        "source": resolved,
        "input_shape": list(input_shape) if input_shape else None,
        "classes": classes,
        "weights": _source(weights) if weights is not None else None,
    }
    settings = {"device": device}
    job = Job(run_id=0, plan={}, dataset={}, settings=settings, kind="import", options=options)
    handle = (backend or create_backend()).start(job)
    try:
        found: dict[str, Any] | None = None
        for event in handle.events():
            if event["type"] == "result":
                found = event.get("imported")
            elif event["type"] == "failed":
                raise LayerloomError(f"cannot import {source}: {event['reason']}")
        if found is None:
            raise LayerloomError(f"cannot import {source}: the import ended without a result")
        files = None
        if found.get("weights"):
            names = checkpoint_files(found["weights"])
            files = (handle.fetch(names[0].name), handle.fetch(names[1].name))
    finally:
        handle.close()
    return _write_project(str(source), target, found, files, overwrite)


def _write_project(
    source: str,
    target: Path,
    found: dict[str, Any],
    files: tuple[bytes, bytes] | None,
    overwrite: bool,
) -> ImportReport:
    registry = default_registry()
    graph = graph_from_dict(found["graph"], registry)
    analysis = Analysis(graph, registry)
    try:
        params = analysis.total_params
    finally:
        analysis.close()
    opened = OpenProject(Project.create(target, overwrite=overwrite), graph, registry)
    try:
        version_id = opened.save(f"imported from {source}")
        run_id = None
        if files is not None:
            run_id = records.insert_imported(opened.project.conn, version_id, source, *files)
    finally:
        opened.close()
    return ImportReport(
        source=source,
        path=target,
        nodes=len(graph),
        edges=sum(1 for _ in graph.edges()),
        params=found.get("params") or params,
        placeholders=[(node, cls, f"{BLOCKS}: {why}") for node, cls, why in found["placeholders"]],
        run_id=run_id,
        max_abs_error=found.get("max_abs_error"),
        notes=list(found.get("notes") or []),
    )
