"""What a run started ``--init-from RUN`` takes along: that run's weights and the plan they fit.

The weights are the run's ``best`` checkpoint (its ``last`` when it has no best: an imported
starting point has one checkpoint); the plan is built from the graph version that run trained,
so the worker can load them exactly as saved and copy them by layer name into today's graph
(``backends.warm_start``). Nothing here imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layerloom.backends import records
from layerloom.nodes.compile import build_plan
from layerloom.nodes.errors import UsageError
from layerloom.nodes.serialize import graph_from_dict

INIT_WEIGHTS = "init.weights.h5"  # in the job folder


@dataclass
class WarmStart:
    files: dict[str, bytes]  # job folder files
    options: dict[str, Any]  # Job.options["init"]
    stored: dict[str, Any]  # the run's settings JSON: {"init": {"run", "checkpoint", "epoch"}}


def warm_start(opened: Any, conn: Any, run_id: int) -> WarmStart:
    found = records.summaries(conn, run_id)
    if not found:
        raise UsageError(f"--init-from {run_id}: {opened.path.name} has no run {run_id}")
    checkpoint = records.checkpoint(conn, run_id, "best") or records.checkpoint(
        conn, run_id, "last"
    )
    if checkpoint is None:
        raise UsageError(f"--init-from {run_id}: run {run_id} has no checkpoint to start from")
    graph = graph_from_dict(opened.project.graph(found[0].graph_version_id), opened.registry)
    plan = build_plan(graph, opened.registry, f"run_{run_id}")
    kind = checkpoint.get("kind") or "best"
    return WarmStart(
        files={INIT_WEIGHTS: checkpoint["weights"]},
        options={"init": {"run": run_id, "weights": INIT_WEIGHTS, "plan": plan.to_json()}},
        stored={"init": {"run": run_id, "checkpoint": kind, "epoch": checkpoint.get("epoch")}},
    )
