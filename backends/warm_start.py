"""Start a new run from another run's weights (``layerloom train --init-from RUN``).

The other run may have trained (or imported) a different graph version: a graph whose nodes
were since frozen, whose head was swapped for the project's classes, or to which nodes were
added. So its checkpoint is loaded into the model of *its* plan, exactly as it was saved, and
copied layer by layer into the new model: a layer of the same name whose weights have the same
shapes takes them; any other layer keeps its fresh initial values. One ``log`` event says what
came along and what did not, naming the layers left out.

The workbench puts the weights file in the job folder and ``Job.options["init"]`` holds
``{"run", "weights", "plan"}`` (``app.workbench.warm_start``). Keras is imported inside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.keras_build import build_model
from layerloom.nodes.plan import BuildPlan

LISTED = 12  # layers named in the log line before "... and N more"


def _names(names: list[str]) -> str:
    more = f", ... and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return ", ".join(names[:LISTED]) + more


def transfer(source: Any, target: Any) -> tuple[list[str], list[str]]:
    """Copy weights from ``source`` to ``target`` by layer name where every shape matches;
    (copied, left out) names of ``target``'s layers that have weights."""
    by_name = {layer.name: layer for layer in source.layers}
    copied, left = [], []
    for layer in target.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        other = by_name.get(layer.name)
        given = other.get_weights() if other is not None else []
        if [w.shape for w in given] == [w.shape for w in weights]:
            layer.set_weights(given)
            copied.append(layer.name)
        else:
            left.append(layer.name)
    return copied, left


def load_initial_weights(model: Any, job: Job, writer: EventWriter) -> None:
    """Give ``model`` the weights of the run named in ``job.options["init"]``, when there is one.
    Called after Normalization layers are adapted, so a copied one keeps the statistics it had."""
    init = job.options.get("init")
    if not init:
        return
    source = build_model(BuildPlan.from_json(init["plan"]))
    source.load_weights(str(Path(job.job_dir, init["weights"])))
    copied, left = transfer(source, model)
    line = f"initial weights from run {init['run']}: {len(copied)} layer(s)"
    if left:
        line += f"; {len(left)} kept their fresh initial values ({_names(left)})"
    writer.log(line)
