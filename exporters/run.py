"""One export, start to end, in the calling process: convert, run the artifact, compare with Keras.

The export worker calls this in a child process; tests call it in theirs. A ``parity.json`` with the
report is written next to the artifact, so the folder itself says how far it was trusted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from layerloom.exporters.base import Artifact, ExportContext, Exporter
from layerloom.exporters.input_docs import write_input_files
from layerloom.exporters.parity import compare


@dataclass
class ExportResult:
    target: str
    # absolute paths: the main artifact first, then input.json (and labels.txt), parity.json last
    files: list[str]
    parity: dict[str, Any]
    runtime: str
    details: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.parity.get("passed"))

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "files": self.files,
            "parity": self.parity,
            "runtime": self.runtime,
            "details": self.details,
            "options": self.options,
        }


def keras_outputs(model: Any, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The trained model's outputs for ``inputs``, always a list in the model's output order."""
    feed: Any = inputs if len(inputs) > 1 else next(iter(inputs.values()))
    result = model.predict_on_batch(feed)
    if isinstance(result, dict):
        result = [result[name] for name in model.output_names]
    if not isinstance(result, (list, tuple)):
        result = [result]
    return [np.asarray(item) for item in result]


def run_export(exporter: Exporter, ctx: ExportContext) -> ExportResult:
    ctx.progress(f"converting to {exporter.title}")
    artifact: Artifact = exporter.export(ctx)
    # Every target's folder states its exact input the same way (exporters.input_docs).
    stated = write_input_files(ctx)
    ctx.progress(f"checking parity in {artifact.runtime}")
    reference = keras_outputs(ctx.model, ctx.sample)
    candidate = exporter.predict(artifact, ctx, ctx.sample)
    report = compare(
        reference,
        candidate,
        exporter.tolerance(ctx.options, ctx.classification),
        classification=ctx.classification,
        output_names=ctx.plan.outputs,
        runtime=artifact.runtime,
    )
    checks = exporter.extra_checks(artifact, ctx)
    if checks:
        report["checks"] = checks
        failed = [f"{name}: {c['reason']}" for name, c in checks.items() if not c["passed"]]
        if failed:
            report["passed"] = False
            report["reason"] = "; ".join(filter(None, [report["reason"], *failed]))
    report_file = ctx.out_dir / "parity.json"
    report_file.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    files = [str(path) for path in [*artifact.files, *stated]] + [str(report_file)]
    return ExportResult(
        exporter.target, files, report, artifact.runtime, artifact.details, dict(ctx.options)
    )
