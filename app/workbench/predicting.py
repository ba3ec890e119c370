"""Ask a trained run about new raw inputs: ``layerloom predict`` and the GUI's Predict tab.

The run is the one ``run_choice.choose_run`` means (named, or the best finished run of the current
graph) and its weights are its best checkpoint. The input contract, which says how raw files
become the model's inputs, comes from the project's dataset checked against the run's graph
(``input_contract_for``); when that dataset's fingerprint is not the one the run trained on, the
result carries a warning. The inputs are collected and refused here, before any worker starts
(``backends.model_inputs.collect``: missing files, a CSV for an image model), then read and fed
to the model in a worker job of kind ``predict`` (``backends.keras_predict``), so TensorFlow never
loads in the CLI or GUI process and a native crash cannot take them down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.run_choice import ChosenRun, choose_run, run_contract
from layerloom.app.workbench.training import RESUME_STEM, _plan_for
from layerloom.backends.base import Backend, RunHandle
from layerloom.backends.model_inputs import InputError, collect
from layerloom.backends.protocol import Job, checkpoint_files
from layerloom.backends.registry import create_backend
from layerloom.nodes import training
from layerloom.nodes.datasets.contract import InputContract
from layerloom.nodes.errors import DatasetError, LayerloomError
from layerloom.nodes.plan import BuildPlan

__all__ = ["InputError", "Prediction", "input_contract_for", "predict"]

MAX_TOP = 1000


@dataclass
class Prediction:
    """What ``predict`` answered: one row per input example (``keras_predict.prediction_rows``)."""

    run_id: int
    reason: str  # which run and why, one line
    checkpoint: dict[str, Any]  # kind, epoch, step of the weights used
    answer: str  # keras_predict.ANSWERS: 'values' for regression, else a classifier's output
    output: str  # the output node answered
    rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def classification(self) -> bool:
        return self.answer != "values"


def input_contract_for(opened: OpenProject, plan: BuildPlan) -> tuple[InputContract, str, str]:
    """The input contract of a model with ``plan``, from the project's dataset: (contract, the
    dataset's spec kind, its fingerprint). DatasetError when the dataset no longer fits the plan."""
    from layerloom.nodes.datasets import dataset_spec_for, open_source

    spec = dataset_spec_for(opened)
    source = open_source(spec, opened.path.resolve().parent)
    info = source.check(plan)
    return source.input_contract(plan, info), spec, source.fingerprint()


def _fingerprint_warning(chosen: ChosenRun, fingerprint: str) -> list[str]:
    trained_on = chosen.summary.dataset_fingerprint
    if trained_on and trained_on != fingerprint:
        return [
            f"the project's dataset has changed since run {chosen.run_id} trained (its"
            " fingerprint differs): classes, columns and vocabularies are read from the data"
            " as it is now"
        ]
    return []


def _run_contract(
    opened: OpenProject, chosen: ChosenRun, plan: BuildPlan
) -> tuple[InputContract, dict[str, Any], list[str]]:
    """(contract, dataset spec, warnings): the contract the run recorded when it started; for
    runs from before runs kept one, the project's dataset's, with a warning if it changed."""
    recorded = run_contract(chosen.summary)
    if recorded is not None:
        spec = chosen.summary.settings.get("dataset")
        return recorded, spec if isinstance(spec, dict) else {}, []
    try:
        contract, spec, fingerprint = input_contract_for(opened, plan)
    except DatasetError as error:
        raise DatasetError(
            f"cannot tell how run {chosen.run_id} reads its inputs: the project's dataset does"
            f" not fit its model ({error})"
        ) from None
    return contract, spec, _fingerprint_warning(chosen, fingerprint)


def _wait(handle: RunHandle) -> dict[str, Any]:
    try:
        answer = None
        for event in handle.events():
            if event["type"] == "prediction":
                answer = event
            elif event["type"] == "failed":
                # The worker's reason is already one line naming the file or row at fault.
                if event.get("error_type") == InputError.__name__:
                    raise InputError(event["reason"])
                raise LayerloomError(f"prediction failed: {event['reason']}")
        if answer is None:
            raise LayerloomError("the prediction ended without an answer")
        return answer
    finally:
        handle.close()  # interrupted while waiting: leave no worker and no folder behind


def predict(
    opened: OpenProject,
    inputs: list[str | Path],
    run_id: int | None = None,
    top: int = 1,
    backend: Backend | None = None,
) -> Prediction:
    """Predict every example of ``inputs`` (image files or folders, CSV files, .npz files) with
    ``run_id``'s best checkpoint, or the default run's. Refusals are LayerloomError (InputError
    for an input at fault), raised before a worker starts wherever they can be."""
    if not 1 <= int(top) <= MAX_TOP:
        raise InputError(f"top must be from 1 to {MAX_TOP}, not {top}")
    chosen = choose_run(opened, run_id, purpose="predict with")
    plan = _plan_for(opened, chosen.summary.graph_version_id)
    contract, spec, warnings = _run_contract(opened, chosen, plan)
    sources = collect(list(inputs), contract)
    # A run's stored settings also hold what is not a setting (the run it resumed, its dataset).
    known = {param.name for param in training.SETTINGS}
    settings = training.resolve({k: v for k, v in chosen.summary.settings.items() if k in known})
    job = Job(
        run_id=chosen.run_id,
        plan=plan.to_json(),
        dataset=spec,
        settings=settings,
        kind="predict",
        resume_from=RESUME_STEM,
        base_dir=str(opened.path.resolve().parent),
        options={
            "contract": contract.to_json(),
            "inputs": [source.to_json() for source in sources],
            "top": int(top),
        },
    )
    weights, optimizer = checkpoint_files(RESUME_STEM)
    files = {str(weights): chosen.checkpoint["weights"], str(optimizer): b""}
    answer = _wait((backend or create_backend()).start(job, files))
    return Prediction(
        run_id=chosen.run_id,
        reason=chosen.reason,
        checkpoint={k: chosen.checkpoint[k] for k in ("kind", "epoch", "step")},
        answer=answer["answer"],
        output=answer["output"],
        rows=answer["rows"],
        warnings=warnings,
    )
