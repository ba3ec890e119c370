"""``layerloom pipeline``: TFX's job for one project. New data is checked, trained on, evaluated,
compared with the model pushed last, and pushed for TF Serving only when it is good enough.

Steps, each recorded as it ends (``nodes.project_pipelines``) and each able to refuse:

- ``check-data``: ``data_checks.check_data`` against the project's schema and statistics;
- ``dataset``: the file becomes the project's dataset (same kind, target and split as before)
  and must fit the graph, with a test split to evaluate on;
- ``train``: a run with the project's settings, on this machine or a remote (``--remote``);
- ``evaluate``: that run on the test split, overall, per class and per value of ``--slice``;
- ``gate``: every condition of ``--gate`` (``pipeline_gate``) on those figures;
- ``compare``: the run pushed last from this project, evaluated on the SAME split of the same
  data, may not beat the candidate by more than ``--tolerance``;
- ``push``: the Serving SavedModel (and ``--targets``) as ``DIR/<model>/<next version>/``
  (``pipeline_push``).

A refusal pushes nothing and leaves the project's dataset as it was. A re-run whose data
fingerprint, model and settings are those of the last pushed or refused pipeline run does
nothing, records nothing and says so. Problems with the request itself (a gate that does not
parse, a missing file, an unknown target) are refused before anything is recorded.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject, pipeline_figures
from layerloom.app.workbench.evaluating import Evaluation, evaluate
from layerloom.app.workbench.exporting import model_name
from layerloom.app.workbench.pipeline_gate import Gate, known_metrics, parse_gate
from layerloom.app.workbench.pipeline_push import PushRefused, check_push_dir, push, served_name
from layerloom.app.workbench.training import start_run
from layerloom.backends import records
from layerloom.backends.base import Backend
from layerloom.backends.registry import create_backend
from layerloom.exporters.registry import default_exporters
from layerloom.nodes import project_pipelines as store
from layerloom.nodes import training
from layerloom.nodes.compile import build_plan
from layerloom.nodes.errors import LayerloomError, UsageError
from layerloom.nodes.project import canonical_json
from layerloom.nodes.project_pipelines import PipelineRecord, PipelineStep

__all__ = ["PipelineOutcome", "PipelineRequest", "pipeline_runs", "run_pipeline"]

SPLIT = "test"
Progress = Callable[[str], None]


@dataclass
class PipelineRequest:
    data: Path
    push_dir: Path
    gate: str | None = None
    tolerance: float = pipeline_figures.DEFAULT_TOLERANCE
    targets: tuple[str, ...] = ()
    slice_column: str | None = None
    remote: str | None = None


@dataclass
class PipelineOutcome:
    record: PipelineRecord  # the recorded pipeline run (for a no-op: the earlier one it repeats)
    unchanged: bool = False  # a no-op: same data, model and settings as ``record``

    @property
    def pushed(self) -> bool:
        return not self.unchanged and self.record.verdict == store.PUSHED

    @property
    def message(self) -> str:
        record = self.record
        if self.unchanged:
            was = (
                f"pushed as version {record.version}"
                if record.verdict == store.PUSHED
                else f"refused at {record.decided_at}: {record.reason}"
            )
            return (
                f"nothing to do: the data, graph and settings are those of pipeline run"
                f" {record.id} ({was})"
            )
        return record.reason or record.verdict

    def to_json(self) -> dict[str, Any]:
        return {**self.record.to_json(), "unchanged": self.unchanged}


class _Refused(Exception):
    """A step said no; its step row is already recorded."""

    def __init__(self, step: str, reason: str, verdict: str = store.REFUSED) -> None:
        super().__init__(reason)
        self.step, self.reason, self.verdict = step, reason, verdict


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _conn(opened: OpenProject) -> Any:
    return opened.project.conn


def pipeline_runs(opened: OpenProject | None) -> list[PipelineRecord]:
    """Every recorded pipeline run with its steps, oldest first (the GUI's Pipeline view)."""
    return [] if opened is None else store.pipelines(_conn(opened))


# --- the request, checked before anything is recorded --------------------------------------------


@dataclass
class _Checked:
    data: Path
    push_dir: Path
    spec: dict[str, Any]  # the new dataset spec
    previous: dict[str, Any] | None  # the project's dataset spec before
    fingerprint: str
    plan: Any
    model_sha: str
    settings: dict[str, Any]  # what the no-op compares, recorded with the run
    gate: Gate | None
    request: PipelineRequest
    extra: dict[str, Any] = field(default_factory=dict)


def _fingerprint(spec: dict[str, Any], data: Path) -> str:
    from layerloom.nodes.datasets import open_source
    from layerloom.nodes.datasets.base import sha256_file

    try:
        return open_source(spec).fingerprint()
    except LayerloomError:
        # Data the source refuses is still data the pipeline records (check-data says why).
        return sha256_file(data) if data.is_file() else ""


def _check_request(opened: OpenProject, request: PipelineRequest) -> _Checked:
    from layerloom.nodes.datasets import stored_dataset_spec

    data = request.data.expanduser().resolve()
    if not data.exists():
        raise LayerloomError(f"--data {request.data}: no such file or folder")
    if not math.isfinite(request.tolerance) or request.tolerance < 0:
        raise UsageError(f"--tolerance must be a number from 0 up, not {request.tolerance}")
    known = default_exporters()
    for target in request.targets:
        if target not in known:
            raise UsageError(
                f"--targets: unknown export target {target!r}; known: {', '.join(sorted(known))}"
            )
    targets = tuple(dict.fromkeys(t for t in request.targets if t != "serving"))
    previous = stored_dataset_spec(opened)
    if not previous or not previous.get("path") or previous.get("kind") == "sample":
        raise LayerloomError(
            f"{opened.path.name} has no dataset file to replace (its data is"
            f" {'a built-in sample' if previous else 'not set'}); set the data it was built for"
            f" first with `layerloom data {opened.path.name} --csv F --target COL`"
        )
    if request.slice_column is not None and previous.get("kind") != "csv":
        raise UsageError("--slice needs a CSV dataset: it names one of its columns")
    resolved = training.resolve(training.load(opened.project))
    extra = training.parse_metrics(resolved["metrics"]) or []
    gate = parse_gate(request.gate, known_metrics(extra)) if request.gate is not None else None
    plan = build_plan(opened.graph, opened.registry, model_name(opened))
    model_sha = hashlib.sha256(canonical_json(plan.to_json()).encode("utf-8")).hexdigest()
    push_dir = check_push_dir(request.push_dir)
    spec = {**previous, "path": str(data)}
    settings = {
        "training": resolved,
        "gate": str(gate) if gate else None,
        "tolerance": request.tolerance,
        "compare": {task: metric for task, (metric, _) in pipeline_figures.COMPARED.items()},
        "targets": list(targets),
        "slice": request.slice_column,
        "split": SPLIT,
        "remote": request.remote,
        "push_dir": str(push_dir),
    }
    request = PipelineRequest(**{**request.__dict__, "targets": targets})
    return _Checked(
        data,
        push_dir,
        spec,
        previous,
        _fingerprint(spec, data),
        plan,
        model_sha,
        json.loads(json.dumps(settings, default=str)),
        gate,
        request,
    )


def _unchanged(opened: OpenProject, checked: _Checked) -> PipelineRecord | None:
    last = store.last_decided(_conn(opened))
    if last is None:
        return None
    same = (
        last.data_fingerprint == checked.fingerprint
        and last.graph_sha256 == checked.model_sha
        and last.settings == checked.settings
    )
    return last if same else None


# --- the run -----------------------------------------------------------------------------------


class _Steps:
    """Records each step as it ends and tells the face."""

    def __init__(self, opened: OpenProject, pipeline_id: int, progress: Progress) -> None:
        self.opened, self.pipeline_id, self.progress = opened, pipeline_id, progress
        self.started = _now()

    def begin(self, step: str, line: str) -> None:
        self.started = _now()
        self.progress(f"[{step}] {line}")

    def end(
        self,
        step: str,
        status: str,
        message: str,
        inputs: dict[str, Any] | None = None,
        figures: dict[str, Any] | None = None,
    ) -> None:
        row = PipelineStep(step, status, message, inputs or {}, figures or {}, self.started, _now())
        store.add_step(_conn(self.opened), self.pipeline_id, row)
        self.progress(f"[{step}] {status}: {message}")
        if status != "passed":
            raise _Refused(step, message, store.FAILED if status == "failed" else store.REFUSED)


def run_pipeline(
    opened: OpenProject,
    request: PipelineRequest,
    *,
    backend: Backend | None = None,
    eval_backend: Backend | None = None,
    progress: Progress = lambda line: None,
) -> PipelineOutcome:
    """Run the pipeline on ``request.data``; the recorded outcome. ``backend`` trains (default:
    this machine, or ``request.remote``), ``eval_backend`` evaluates (default: this machine)."""
    checked = _check_request(opened, request)
    earlier = _unchanged(opened, checked)
    if earlier is not None:
        return PipelineOutcome(earlier, unchanged=True)
    if backend is None:
        from layerloom.app.workbench.remotes import training_backend

        backend = training_backend(request.remote)
    version_id = opened.save("before the pipeline")
    pipeline_id = store.insert_pipeline(
        _conn(opened),
        str(checked.data),
        checked.fingerprint,
        version_id,
        checked.model_sha,
        checked.settings,
        served_name(opened),
    )
    steps = _Steps(opened, pipeline_id, progress)
    pushed = None
    try:
        try:
            pushed = _run_steps(opened, checked, steps, backend, eval_backend or create_backend())
        except _Refused as refused:
            store.finish_pipeline(
                _conn(opened), pipeline_id, refused.verdict, refused.step, refused.reason
            )
        else:
            reason = f"pushed {pushed.model} version {pushed.version} to {pushed.path}"
            store.finish_pipeline(
                _conn(opened),
                pipeline_id,
                store.PUSHED,
                "push",
                reason,
                pushed.version,
                str(pushed.path),
            )
    finally:
        if pushed is None:
            _restore_dataset(opened, checked.previous)
    return PipelineOutcome(store.pipelines(_conn(opened), pipeline_id)[0])


def _restore_dataset(opened: OpenProject, previous: dict[str, Any] | None) -> None:
    from layerloom.nodes.datasets import store_dataset_spec, stored_dataset_spec
    from layerloom.nodes.datasets.specs import resolve_paths

    if previous is not None and stored_dataset_spec(opened) != previous:
        # Stored paths are relative to the project's folder, not to the working directory.
        store_dataset_spec(opened, resolve_paths(previous, opened.path.resolve().parent))


def _run_steps(
    opened: OpenProject,
    checked: _Checked,
    steps: _Steps,
    backend: Backend,
    eval_backend: Backend,
) -> Any:
    _check_data(opened, checked, steps)
    test_values = _set_dataset(opened, checked, steps)
    run_id, best = _train(opened, steps, backend)
    candidate = _evaluate(opened, checked, steps, eval_backend, run_id, best, test_values)
    _gate(checked, steps, candidate, best)
    _compare(opened, checked, steps, eval_backend, candidate)
    steps.begin("push", f"exporting run {run_id} to {checked.push_dir}")
    inputs = {"run": run_id, "push_dir": str(checked.push_dir), "targets": ["serving"]}
    inputs["targets"] += list(checked.request.targets)
    try:
        pushed = push(opened, run_id, checked.push_dir, checked.request.targets, steps.progress)
    except PushRefused as refused:
        steps.end("push", "refused", str(refused), inputs)
    except (LayerloomError, OSError) as error:
        steps.end("push", "failed", f"nothing pushed: {error}", inputs)
    figures = {"model": pushed.model, "version": pushed.version, "path": str(pushed.path)}
    steps.end("push", "passed", f"{pushed.model}/{pushed.version}", inputs,
              {**figures, "exports": pushed.exports})  # fmt: skip
    return pushed


def _check_data(opened: OpenProject, checked: _Checked, steps: _Steps) -> None:
    from layerloom.app.workbench.data_checks import check_data

    steps.begin("check-data", f"checking {checked.data.name} against the project's schema")
    inputs = {"file": str(checked.data), "fingerprint": checked.fingerprint}
    try:
        result = check_data(opened, checked.data)
    except LayerloomError as error:
        steps.end("check-data", "refused", str(error), inputs)
    figures = {
        "anomalies": [a.to_json() for a in result.anomalies],
        "notes": list(result.notes),
        "statistics": result.statistics,
    }
    if not result.passed:
        first = result.anomalies[0].message
        more = f" (and {len(result.anomalies) - 1} more)" if len(result.anomalies) > 1 else ""
        steps.end("check-data", "refused", f"{first}{more}", inputs, figures)
    steps.end("check-data", "passed", "no anomalies", inputs, figures)


def _set_dataset(opened: OpenProject, checked: _Checked, steps: _Steps) -> list[str] | None:
    """Make the file the project's dataset; the ``--slice`` column's values on the test split."""
    from layerloom.nodes.datasets import open_source, store_dataset_spec

    steps.begin("dataset", f"setting {checked.data.name} as the project's dataset")
    inputs = {"spec": checked.spec}
    try:
        source = open_source(checked.spec)
        source.check(checked.plan)
        splits = {name: int(len(part)) for name, part in source.split_indices().items()}
        if not splits.get(SPLIT):
            steps.end(
                "dataset",
                "refused",
                f"the data has no {SPLIT} split to evaluate on; give it a share with"
                f" `layerloom settings {opened.path.name} test_split=0.1`",
                inputs,
                {"splits": splits},
            )
        values = None
        column = checked.request.slice_column
        if column is not None:
            every = source.column(column)  # type: ignore[attr-defined]
            values = [every[int(i)] for i in source.split_indices()[SPLIT]]
    except LayerloomError as error:
        steps.end("dataset", "refused", str(error), inputs)
    store_dataset_spec(opened, checked.spec)
    steps.end("dataset", "passed", f"{sum(splits.values())} examples", inputs, {"splits": splits})
    return values


def _train(opened: OpenProject, steps: _Steps, backend: Backend) -> tuple[int, dict[str, float]]:
    steps.begin("train", f"training with the project's settings on {backend.name}")
    try:
        session = start_run(opened, backend=backend)
    except LayerloomError as error:
        steps.end("train", "failed", f"the run could not start: {error}")
    store.set_run(_conn(opened), steps.pipeline_id, session.run_id)
    try:
        for event in session.events():
            if event["type"] == "epoch":
                metrics = "  ".join(
                    f"{k} {v:.4f}" for k, v in event["metrics"].items() if k != "lr"
                )
                steps.progress(f"[train] run {session.run_id} epoch {event['epoch']}: {metrics}")
    finally:
        session.close()
    summary = records.summaries(_conn(opened), session.run_id)[0]
    inputs = {"run": session.run_id, "backend": backend.name, "settings": summary.settings}
    figures = {
        "status": summary.status,
        "epochs": summary.epochs,
        "best_epoch": summary.best_epoch,
        "best_metrics": summary.best_metrics,
    }
    if summary.status != "finished":
        why = summary.error or summary.status
        steps.end("train", "failed", f"run {session.run_id} {summary.status}: {why}", inputs)
    steps.end("train", "passed", f"run {session.run_id} finished", inputs, figures)
    return session.run_id, dict(summary.best_metrics)


def _evaluate(
    opened: OpenProject,
    checked: _Checked,
    steps: _Steps,
    eval_backend: Backend,
    run_id: int,
    best: dict[str, float],
    test_values: list[str] | None,
) -> Evaluation:
    steps.begin("evaluate", f"evaluating run {run_id} on the {SPLIT} split")
    inputs = {"run": run_id, "split": SPLIT, "slice": checked.request.slice_column}
    try:
        result = evaluate(opened, run_id, split=SPLIT, backend=eval_backend)
    except LayerloomError as error:
        steps.end("evaluate", "failed", str(error), inputs)
    figures: dict[str, Any] = {
        "samples": result.samples,
        "task": result.task,
        "metrics": pipeline_figures.overall(result),
        "per_class": pipeline_figures.per_class(result),
        "checkpoint": result.checkpoint,
    }
    if test_values is not None:
        figures["slices"] = {
            checked.request.slice_column: pipeline_figures.slices(result, test_values)
        }
    checked.extra["gate_figures"] = pipeline_figures.gate_figures(result, best)
    shown = "  ".join(f"{k} {v:.4f}" for k, v in figures["metrics"].items())
    steps.end("evaluate", "passed", f"{result.samples} examples: {shown}", inputs, figures)
    return result


def _gate(checked: _Checked, steps: _Steps, candidate: Evaluation, best: dict) -> None:
    steps.begin("gate", str(checked.gate) if checked.gate else "no gate given")
    figures = checked.extra["gate_figures"]
    if checked.gate is None:
        steps.end("gate", "passed", "no gate given", {"gate": None}, {"figures": figures})
        return
    ok, lines = checked.gate.check(figures)
    inputs = {"gate": str(checked.gate)}
    if not ok:
        failing = [line for line in lines if not line.endswith("(holds)")]
        steps.end("gate", "refused", "gate not met: " + "; ".join(failing), inputs,
                  {"figures": figures, "conditions": lines})  # fmt: skip
    steps.end("gate", "passed", "; ".join(lines), inputs, {"figures": figures, "conditions": lines})


def _compare(
    opened: OpenProject,
    checked: _Checked,
    steps: _Steps,
    eval_backend: Backend,
    candidate: Evaluation,
) -> None:
    last = store.last_pushed(_conn(opened))
    steps.begin("compare", "comparing with the model pushed last")
    if last is None or last.run_id is None:
        why = "nothing pushed yet from this project" if last is None else "its run was deleted"
        steps.end("compare", "passed", f"not compared: {why}", {"pushed": None})
        return
    inputs = {"pushed_pipeline": last.id, "pushed_run": last.run_id, "version": last.version,
              "split": SPLIT, "data_fingerprint": checked.fingerprint}  # fmt: skip
    try:
        theirs = evaluate(opened, last.run_id, split=SPLIT, backend=eval_backend)
    except LayerloomError as error:
        steps.end(
            "compare", "passed", f"not compared: the pushed model cannot run: {error}", inputs
        )
        return
    found = pipeline_figures.compare(candidate, theirs, checked.request.tolerance)
    if found is None:
        steps.end("compare", "passed", "not compared: no figure in common", inputs)
        return
    figures = {**found.to_json(), "pushed_metrics": pipeline_figures.overall(theirs)}
    status = "passed" if found.acceptable else "refused"
    steps.end("compare", status, found.sentence(last.version), inputs, figures)
