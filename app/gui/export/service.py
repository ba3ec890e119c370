"""The export dialog's calls into the export use cases (``app.workbench.exporting``), in one place.

Reads are cheap and synchronous (which runs have weights, which nodes a target refuses, the export
history). The export itself never blocks: ``start`` returns an ``ExportSession`` that the dialog
polls from a timer; the session records the outcome in the project (this process is its only
writer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from layerloom.app.workbench import export_targets, exporting
from layerloom.app.workbench import training as workbench_training
from layerloom.app.workbench.export_folder import manifest
from layerloom.nodes.export_support import Refusal, footprints, refusals
from layerloom.nodes.serialize import graph_from_dict

CHECKPOINT_KINDS = exporting.CHECKPOINT_KINDS  # ("best", "last")
# Run metrics worth naming in the run chooser, best first.
HEADLINE_METRICS = ("val_accuracy", "accuracy", "val_loss", "loss")


@dataclass
class TrainedRun:
    """A run with at least one checkpoint: what the run chooser lists."""

    id: int
    status: str
    epochs: int
    graph_version_id: int
    checkpoints: dict[str, int | None] = field(default_factory=dict)  # kind -> epoch
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        words = [
            f"Run #{self.id}",
            self.status,
            f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}",
        ]
        name = next((m for m in HEADLINE_METRICS if m in self.metrics), None)
        if name is not None:
            words.append(f"{name} {self.metrics[name]:.3g}")
        return " · ".join(words)


def exporters():
    """The registered targets, in the dialog's order."""
    return export_targets.exporters()


def trained_runs(opened) -> list[TrainedRun]:
    """Runs that left checkpoints, newest first (what an export can start from)."""
    if opened is None:
        return []
    found = []
    for summary in workbench_training.runs(opened):
        kept = exporting.checkpoint_epochs(opened, summary.id)
        if kept:
            found.append(
                TrainedRun(
                    summary.id,
                    summary.status,
                    summary.epochs,
                    summary.graph_version_id,
                    kept,
                    dict(summary.best_metrics or summary.final_metrics or {}),
                )
            )
    return found[::-1]


def default_run(opened) -> tuple[int | None, str]:
    """The run an export uses when none is picked (the best finished run of the current graph)
    and why, in one line; (None, "") when no run kept weights."""
    from layerloom.app.workbench.run_choice import choose_run
    from layerloom.nodes.errors import LayerloomError

    if opened is None:
        return None, ""
    try:
        chosen = choose_run(opened, purpose="export")
    except LayerloomError:
        return None, ""
    return chosen.run_id, chosen.reason


def run_graph(opened, run: TrainedRun):
    """The graph the run trained (an export ships that one, not the graph being edited)."""
    return graph_from_dict(opened.project.graph(run.graph_version_id), opened.registry)


def holds_export(folder: Path) -> bool:
    """Whether ``folder`` holds a previous Layerloom export (the only kind overwrite replaces)."""
    return manifest(folder) is not None


def graph_estimate(graph, registry, capabilities, target: str) -> list[str]:
    """What ``target`` says of the graph before an export (a microcontroller's flash and RAM)."""
    return capabilities.estimate(target, footprints(graph, registry))


def graph_refusals(graph, registry, capabilities=None) -> list[Refusal]:
    """Every (node, limit key) refusal of ``graph``: one scan, filtered per target below."""
    return refusals(graph, registry, capabilities=capabilities)


def target_refusals(refused: list[Refusal], exporter, options: dict) -> list[Refusal]:
    """The refusals (from ``graph_refusals``) that concern ``exporter`` with ``options``: an
    option may bring in more limit keys (TF Lite int8)."""
    try:
        keys = exporter.limit_keys(exporter.resolve_options(options))
    except exporting.ExportError:  # invalid options: the form says so; judge by the defaults
        keys = exporter.limit_keys(exporter.resolve_options({}))
    return [r for r in refused if r.key in keys]


def default_folder(opened, target: str) -> Path | None:
    if opened is None:
        return None
    return opened.path.resolve().parent / "exports" / target


def prepare(opened, target, out_dir, *, run_id, options, checkpoint, overwrite):
    return exporting.prepare_export(
        opened,
        target,
        out_dir,
        run_id=run_id,
        options=options,
        checkpoint=checkpoint,
        overwrite=overwrite,
    )


def start(prepared):
    return exporting.start_export(prepared)


def history(opened) -> list:
    """Recorded exports, newest first."""
    return [] if opened is None else exporting.exports(opened)[::-1]
