"""The sample project a newcomer starts from: ``layerloom demo`` and Help ▸ Open a Sample Project.

One template with its built-in sample data (generated, no download), trained for a few epochs: the
small CNN, because an image classifier is what people expect to put on a phone, and its sample
trains to a useful accuracy in seconds on a laptop CPU. The faces do the training and exporting
(each with its own progress display); this module decides what the sample is, where it goes and
which export targets can run on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from layerloom.app.workbench import create_project
from layerloom.app.workbench.training_settings import change_settings
from layerloom.nodes.errors import LayerloomError, UsageError

DEMO_TEMPLATE = "small_cnn"
# Measured on a 2-core machine: the sample reaches ~95 % validation accuracy by epoch 8, at
# about a second an epoch; more only makes the demo slower.
DEMO_EPOCHS = 8
DEMO_FOLDER = Path("layerloom-demo")
DEMO_PROJECT = "demo.loom"
EXPORTS_FOLDER = "exports"


@dataclass(frozen=True)
class DemoTarget:
    target: str
    title: str
    unavailable: str | None  # why this machine cannot run it (None: it can)


def demo_folder(folder: str | Path | None, *, force: bool = False) -> Path:
    """The folder the sample goes into, created; refuses one that holds anything unless ``force``
    (a demo must never write over someone's files by surprise)."""
    path = Path(folder) if folder is not None else DEMO_FOLDER
    if path.exists() and not path.is_dir():
        raise LayerloomError(f"{path} is a file, not a folder: choose another folder for the demo")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise LayerloomError(
            f"{path} is not empty: choose an empty or new folder, or pass --force to reuse it"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LayerloomError(f"cannot create the demo folder {path}: {error.strerror}") from error
    return path


def create_demo_project(folder: Path, epochs: int = DEMO_EPOCHS) -> Path:
    """The sample project in ``folder`` (replacing an earlier demo's), set to train ``epochs``
    epochs, so the editor's Train (F5) runs the same demo the CLI does."""
    path = folder / DEMO_PROJECT
    with create_project(path, DEMO_TEMPLATE, overwrite=True):
        pass
    change_settings(path, [f"epochs={epochs}"])
    return path


def demo_targets(only: list[str] | None = None) -> list[DemoTarget]:
    """Every export target (or the ``only`` ones, in that order), with why it cannot run here."""
    from layerloom.app.workbench.export_targets import exporters

    found = {e.target: e for e in exporters()}
    names = list(found) if not only else only
    unknown = [name for name in names if name not in found]
    if unknown:
        raise UsageError(f"unknown export target {unknown[0]!r}: choose from {', '.join(found)}")
    return [DemoTarget(name, found[name].title, found[name].unavailable()) for name in names]
