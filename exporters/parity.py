"""The parity check: the same batch through Keras and through the exported artifact, compared.

Plain NumPy. The report is JSON-able; it is stored with the export in the project file and shown
by the GUI and the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from layerloom.exporters.base import Tolerance


def top1(output: np.ndarray) -> np.ndarray:
    """Predicted class per sample: argmax over the last axis; one unit thresholds at 0.5."""
    flat = output.reshape(output.shape[0], -1) if output.ndim > 2 else output
    if flat.ndim == 1 or flat.shape[-1] == 1:
        return (flat.reshape(-1) > 0.5).astype(np.int64)
    return np.argmax(flat, axis=-1)


def compare(
    reference: Sequence[Any],
    candidate: Sequence[Any],
    tolerance: Tolerance,
    *,
    classification: bool,
    output_names: Sequence[str] = (),
    runtime: str = "",
) -> dict[str, Any]:
    """Max/mean abs error over every output and top-1 agreement (classification, first output)."""
    if len(reference) != len(candidate):
        return _failed(f"the artifact gave {len(candidate)} outputs, Keras {len(reference)}")
    max_err, total, count = 0.0, 0.0, 0
    per_output: list[dict[str, Any]] = []
    for index, (ref, got) in enumerate(zip(reference, candidate, strict=True)):
        ref = np.asarray(ref, dtype=np.float64)
        got = np.asarray(got, dtype=np.float64)
        name = output_names[index] if index < len(output_names) else f"output_{index}"
        if ref.size != got.size:
            return _failed(
                f"output {name}: shape {tuple(got.shape)}, Keras gave {tuple(ref.shape)}"
            )
        diff = np.abs(ref.reshape(-1) - got.reshape(-1))
        if not np.all(np.isfinite(diff)):
            return _failed(f"output {name}: the artifact produced NaN or infinite values")
        worst = float(diff.max()) if diff.size else 0.0
        per_output.append({"name": name, "max_abs_error": worst, "mean_abs_error": _mean(diff)})
        max_err = max(max_err, worst)
        total += float(diff.sum())
        count += diff.size
    agreement = None
    if classification and reference:
        ref0 = np.asarray(reference[0]).reshape(len(reference[0]), -1)
        got0 = np.asarray(candidate[0]).reshape(len(candidate[0]), -1)
        agreement = float(np.mean(top1(ref0) == top1(got0))) if len(ref0) else None
    reasons = []
    bound = tolerance.other_outputs_max_abs_error
    if classification and bound is not None:
        for output in per_output[1:]:
            if output["max_abs_error"] > bound:
                reasons.append(
                    f"output {output['name']}: max abs error {output['max_abs_error']:.3g} > {bound:g}"
                )
    if tolerance.max_abs_error is not None and max_err > tolerance.max_abs_error:
        reasons.append(f"max abs error {max_err:.3g} > {tolerance.max_abs_error:g}")
    if (
        tolerance.min_top1_agreement is not None
        and agreement is not None
        and agreement < tolerance.min_top1_agreement
    ):
        reasons.append(f"top-1 agreement {agreement:.1%} < {tolerance.min_top1_agreement:.1%}")
    samples = len(reference[0]) if reference else 0
    return {
        "passed": not reasons,
        "reason": "; ".join(reasons),
        "max_abs_error": max_err,
        "mean_abs_error": total / count if count else 0.0,
        "top1_agreement": agreement,
        "samples": samples,
        "outputs": per_output,
        "tolerance": {
            "max_abs_error": tolerance.max_abs_error,
            "min_top1_agreement": tolerance.min_top1_agreement,
            "other_outputs_max_abs_error": tolerance.other_outputs_max_abs_error,
        },
        "runtime": runtime,
    }


def _mean(diff: np.ndarray) -> float:
    return float(diff.mean()) if diff.size else 0.0


def _failed(reason: str) -> dict[str, Any]:
    return {
        "passed": False,
        "reason": reason,
        "max_abs_error": None,
        "mean_abs_error": None,
        "top1_agreement": None,
        "samples": 0,
        "outputs": [],
        "tolerance": {},
        "runtime": "",
    }


def summary(report: dict[str, Any]) -> str:
    """One line for the CLI and the GUI."""
    if report.get("max_abs_error") is None:
        return f"parity FAILED: {report.get('reason', '')}"
    words = [f"max abs error {report['max_abs_error']:.2g}"]
    words.append(f"mean {report['mean_abs_error']:.2g}")
    if report.get("top1_agreement") is not None:
        words.append(f"top-1 agreement {report['top1_agreement']:.1%}")
    words.append(f"on {report['samples']} samples")
    verdict = "passed" if report["passed"] else f"FAILED ({report['reason']})"
    runtime = f" in {report['runtime']}" if report.get("runtime") else ""
    return f"parity {verdict}{runtime}: " + ", ".join(words)
