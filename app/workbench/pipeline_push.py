"""The pipeline's push: a blessed run becomes ``DIR/<model>/<next version>/``, the layout TF Serving
watches, in one rename.

Everything is written into a hidden temporary sibling of ``DIR/<model>`` first (same file system,
so the final rename is atomic): the Serving SavedModel, its example request and expected answer
and README in the version's ``assets.extra/`` (where TF Serving keeps a version's extra files and
never looks for a model), and every other target asked for in ``assets.extra/<target>/``. Only
when every export passed its parity check is the version folder renamed into place; a server
watching ``DIR/<model>`` never sees a half-written version, and a refused push leaves nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.exporting import ExportOutcome, export, model_name
from layerloom.exporters.serving import next_version
from layerloom.nodes.errors import LayerloomError

SERVING = "serving"
EXTRAS = "assets.extra"
# Files the serving export writes beside the model folder; they travel inside the version.
SERVING_EXTRAS = ("request.json", "expected_response.json", "README.md", "models.config")


class PushRefused(LayerloomError):
    """An export failed (its parity check, or the conversion): nothing was pushed."""


@dataclass
class Pushed:
    model: str
    version: int
    path: Path
    exports: list[dict[str, Any]] = field(default_factory=list)


def served_name(opened: OpenProject) -> str:
    """The folder and URL name the model is served under: the serving export's default, the
    compiled model's name (Keras-safe, so non-ASCII project names become ASCII ones)."""
    from layerloom.nodes.compile import build_plan

    return build_plan(opened.graph, opened.registry, model_name(opened)).name


def check_push_dir(push_dir: Path) -> Path:
    """The push folder, resolved; LayerloomError when it is a file or cannot be written."""
    push_dir = push_dir.expanduser().resolve()
    if push_dir.exists() and not push_dir.is_dir():
        raise LayerloomError(f"--push {push_dir} is a file, not a folder")
    try:
        push_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=push_dir):
            pass
    except OSError as error:
        raise LayerloomError(
            f"--push {push_dir} is not writable: {error.strerror or error}"
        ) from error
    return push_dir


def _summary(outcome: ExportOutcome) -> dict[str, Any]:
    parity = outcome.parity
    return {
        "target": outcome.target,
        "status": outcome.status,
        "export_id": outcome.id,
        "runtime": outcome.runtime,
        "max_abs_error": parity.get("max_abs_error"),
        "top1_agreement": parity.get("top1_agreement"),
        "error": outcome.error or (None if outcome.passed else parity.get("reason")),
    }


def _checked(outcome: ExportOutcome) -> ExportOutcome:
    if not outcome.passed:
        why = outcome.error or outcome.parity.get("reason") or outcome.status
        raise PushRefused(f"the {outcome.target} export did not pass ({outcome.status}): {why}")
    return outcome


def push(
    opened: OpenProject,
    run_id: int,
    push_dir: Path,
    targets: tuple[str, ...] = (),
    progress: Callable[[str], None] = lambda line: None,
) -> Pushed:
    """Export ``run_id`` and push it as the next version; PushRefused (nothing pushed) when an
    export fails."""
    name = served_name(opened)
    base = push_dir / name
    version = next_version(base)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.pipeline-{os.getpid()}-", dir=push_dir))
    summaries: list[dict[str, Any]] = []
    try:
        progress(f"exporting the Serving SavedModel as {name}/{version}")
        written = staging / SERVING
        outcome = _checked(
            export(opened, SERVING, written, run_id=run_id, options={"version": version})
        )
        summaries.append(_summary(outcome))
        version_dir = Path(outcome.details.get("version_dir") or written / name / str(version))
        extras = version_dir / EXTRAS
        extras.mkdir(exist_ok=True)
        for file_name in SERVING_EXTRAS:
            if (written / file_name).is_file():
                (written / file_name).rename(extras / file_name)
        for target in targets:
            progress(f"exporting {target}")
            outcome = _checked(export(opened, target, extras / target, run_id=run_id))
            summaries.append(_summary(outcome))
        base.mkdir(parents=True, exist_ok=True)
        final = base / str(version)
        if final.exists():  # another push took the number meanwhile
            raise LayerloomError(f"{final} appeared while this version was written; run again")
        version_dir.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    progress(f"pushed {final}")
    return Pushed(name, version, final, summaries)
