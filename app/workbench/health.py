"""Training health of a run, for the faces: its per-node figures, findings in plain words, and the
first non-finite value of a diverged run. The SQL is in ``backends.health_records``, the rules in
``nodes.health``; the CLI's ``health`` command and the GUI's Health panel both read it here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.backends import health_records, records
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.health import FIGURES, Finding, findings, nonfinite_sentence

__all__ = ["FIGURES", "HealthReport", "health_report", "health_runs", "nonfinite_sentence"]


@dataclass
class HealthReport:
    run_id: int
    # {node: [{"step", "epoch", figure...}, ...]}, nodes in graph order.
    nodes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    nonfinite: dict[str, Any] | None = None  # {"node", "where", "step", "rows"} when diverged

    def to_json(self) -> dict[str, Any]:
        """The documented ``health --json`` shape (no epoch, no run id: exactly these keys)."""
        keys = ("step", *FIGURES)
        return {
            "nodes": {
                node: [{k: record.get(k) for k in keys} for record in samples]
                for node, samples in self.nodes.items()
            },
            "findings": [f.to_json() for f in self.findings],
        }

    def latest(self, figure: str) -> dict[str, float]:
        """Each node's most recent value of ``figure`` (nodes where it applies)."""
        out = {}
        for node, samples in self.nodes.items():
            values = [s[figure] for s in samples if s.get(figure) is not None]
            if values:
                out[node] = values[-1]
        return out


def _conn(opened: OpenProject) -> Any:
    return opened.project.conn


def health_runs(opened: OpenProject | None) -> list[int]:
    """The runs of the project that recorded health, oldest first."""
    return [] if opened is None else health_records.runs_with_health(_conn(opened))


def _output_nodes(opened: OpenProject, run_id: int) -> list[str]:
    """The output nodes of the graph the run trained (a sigmoid head may saturate by design)."""
    from layerloom.nodes.compile import build_plan
    from layerloom.nodes.serialize import graph_from_dict

    found = records.summaries(_conn(opened), run_id)
    try:
        graph = graph_from_dict(opened.project.graph(found[0].graph_version_id), opened.registry)
        plan = build_plan(graph, opened.registry, "model")
    except (LayerloomError, IndexError):
        return []
    return [plan.display(name) for name in plan.outputs]


def health_report(opened: OpenProject, run_id: int | None = None) -> HealthReport:
    """Run ``run_id``'s health (default: the latest run that recorded any)."""
    conn = _conn(opened)
    if run_id is None:
        found = health_records.runs_with_health(conn)
        if not found:
            raise LayerloomError(
                f"{opened.path.name} has no run with health figures; train with --health on"
            )
        run_id = found[-1]
    elif not records.summaries(conn, run_id):
        raise LayerloomError(f"{opened.path.name} has no run {run_id}")
    series = health_records.series(conn, run_id)
    broken = health_records.nonfinite(conn, run_id)
    if not series and broken is None:
        raise LayerloomError(
            f"run {run_id} has no health figures (trained with --health off, or on JAX)"
        )
    outputs = _output_nodes(opened, run_id)
    return HealthReport(run_id, series, findings(series, outputs), broken)
