"""Checkpoints inside the worker: the files, and when to write them.

A checkpoint is ``<stem>.weights.h5`` (``model.save_weights``, Keras' own format, which any
exporter can ``load_weights``) plus ``<stem>.optimizer.npz`` (the optimizer's variables as plain
arrays, ``iterations`` first; never pickle).

Writing the h5 file costs ~40 ms whatever the model's size, which doubles the epoch time of the
small sample models. So ``Checkpointer`` writes at most every ``checkpoint_seconds``: an improved
epoch is kept in memory (``get_weights`` and the optimizer's arrays, ~1 ms) and written with the
next write; the last state is always written when training ends or is cancelled. A crash loses at
most that many seconds of training. ``checkpoint_seconds = 0`` writes at every epoch end. The
first epoch's end is always written, whatever the interval: a run killed in its first seconds can
still be resumed.

A checkpoint never holds non-finite weights: ``save_checkpoint`` refuses them (``Diverged``), and
a diverged run keeps its last finite checkpoint (``Checkpointer.diverged`` writes the finite state
still pending in memory, if any, and nothing else).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layerloom.backends.protocol import EventWriter, checkpoint_files
from layerloom.nodes.errors import LayerloomError


class Diverged(LayerloomError):
    """The loss (or the weights) became NaN or infinite: training cannot go on from here."""

    def __init__(self, what: str, at: str, lr: float | None = None) -> None:
        lower = (
            f"a lower learning rate (it was {lr:g}; try --lr {lr / 10:g})"
            if lr
            else ("a lower learning rate")
        )
        super().__init__(
            f"training diverged: {what} at {at}. Try {lower}, or check the data for extreme values"
        )


def all_finite(arrays: list[Any]) -> bool:
    import numpy as np

    return all(bool(np.isfinite(np.asarray(a, dtype="float64")).all()) for a in arrays)


@dataclass
class Snapshot:
    epoch: int
    step: int
    weights: list[Any]
    optimizer: dict[str, Any]


def optimizer_state(model: Any) -> dict[str, Any]:
    store: dict[str, Any] = {}
    model.optimizer.save_own_variables(store)
    return store


def save_checkpoint(model: Any, stem: Path, snapshot: Snapshot | None = None) -> Path:
    """Write the model's current state, or ``snapshot`` (swapped in for the write, then back)."""
    import numpy as np

    weights_file, optimizer_file = checkpoint_files(stem)
    weights = model.get_weights() if snapshot is None else snapshot.weights
    if not all_finite(weights):
        # A checkpoint of NaN weights would be resumed, evaluated and exported as if it were a
        # model; the caller keeps the previous (finite) one instead.
        raise Diverged("the weights became NaN or infinite", "a checkpoint")
    if snapshot is None:
        model.save_weights(str(weights_file))
        store = optimizer_state(model)
    else:
        current = model.get_weights()
        model.set_weights(snapshot.weights)
        try:
            model.save_weights(str(weights_file))
        finally:
            model.set_weights(current)
        store = snapshot.optimizer
    with open(optimizer_file, "wb") as handle:
        np.savez(handle, **store)
    return stem


def restore_checkpoint(model: Any, stem: str | Path) -> int:
    """Load weights and optimizer state; return the restored optimizer ``iterations``."""
    import numpy as np

    weights, optimizer_file = checkpoint_files(stem)
    model.load_weights(str(weights))
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    with np.load(optimizer_file, allow_pickle=False) as stored:
        store = {key: stored[key] for key in stored.files}
    if not store:
        return 0  # an imported model's weights: no optimizer has trained them yet
    if len(store) != len(optimizer.variables):
        # Keras would only warn and train on with a fresh optimizer; a resume must not pretend.
        raise LayerloomError(
            f"the checkpoint's optimizer state has {len(store)} variables but this optimizer has "
            f"{len(optimizer.variables)}; was the optimizer or the model changed?"
        )
    optimizer.load_own_variables(store)
    return int(optimizer.iterations.numpy())


def load_weights_only(model: Any, stem: str | Path) -> None:
    weights, _ = checkpoint_files(stem)
    model.load_weights(str(weights))


class Checkpointer:
    """Decides when the best and last states reach disk, writes them and announces them."""

    def __init__(self, writer: EventWriter, folder: Path, interval: float) -> None:
        self.writer = writer
        self.folder = folder
        self.interval = interval
        self.best: Snapshot | None = None  # improved since the last write, not yet on disk
        self.written_step: int | None = None
        self.last_write = time.monotonic()
        self._names = itertools.count(1)
        # kind -> the stems announced for it, newest last. Only the newest two of each kind stay
        # on disk: a reader may still be fetching the previous one; older ones are superseded
        # (a long run would otherwise fill the disk with one checkpoint per epoch).
        self._announced: dict[str, list[Path]] = {}

    def epoch_end(self, model: Any, epoch: int, step: int, improved: bool) -> None:
        # The first epoch's end is always written: a run killed in its first seconds must still
        # have something to resume from.
        due = (
            self.interval <= 0
            or self.written_step is None
            or time.monotonic() - self.last_write >= self.interval
        )
        if improved:
            # Written now (same files as 'last') or kept in memory until the next write.
            self.best = Snapshot(epoch, step, [], {}) if due else self._snapshot(model, epoch, step)
        if due:
            self.flush(model, epoch, step)

    def flush(self, model: Any, epoch: int, step: int, force: bool = False) -> None:
        """Write the pending best (if any) and the current state as 'last'."""
        if self.written_step == step and self.best is None and not force:
            return  # the state on disk is already this one
        current: Path | None = None
        if self.best is not None:
            if self.best.step == step:
                current = self._write(model, None)
                self._announce("best", current, self.best.epoch, step)
            else:
                self._announce(
                    "best", self._write(model, self.best), self.best.epoch, self.best.step
                )
            self.best = None
        self._announce("last", current or self._write(model, None), epoch, step)
        self.written_step = step
        self.last_write = time.monotonic()

    def diverged(self, model: Any) -> None:
        """The run diverged: write the finite best state still held in memory (as 'best' and as
        'last', so a resume starts from it), never the current, non-finite one."""
        if self.best is None or not self.best.weights:
            return
        best, self.best = self.best, None
        stem = self._write(model, best)
        self._announce("best", stem, best.epoch, best.step)
        self._announce("last", stem, best.epoch, best.step)
        self.written_step = best.step

    def _snapshot(self, model: Any, epoch: int, step: int) -> Snapshot:
        return Snapshot(epoch, step, model.get_weights(), optimizer_state(model))

    def _write(self, model: Any, snapshot: Snapshot | None) -> Path:
        # Unique names: the orchestrator may still be reading the previous checkpoint's files.
        epoch = f"-e{snapshot.epoch}" if snapshot else ""
        return save_checkpoint(
            model, self.folder / f"ckpt-{next(self._names):04d}{epoch}", snapshot
        )

    def _announce(self, kind: str, stem: Path, epoch: int, step: int) -> None:
        # Named relative to the job folder: the orchestrator fetches it through the backend.
        self.writer.emit("checkpoint", kind=kind, path=stem.name, epoch=epoch, step=step)
        history = self._announced.setdefault(kind, [])
        if not history or history[-1] != stem:
            history.append(stem)
        self._prune()

    def _prune(self) -> None:
        keep = {stem for stems in self._announced.values() for stem in stems[-2:]}
        for kind, stems in self._announced.items():
            for stem in stems[:-2]:
                if stem not in keep:
                    for path in checkpoint_files(stem):
                        path.unlink(missing_ok=True)
            self._announced[kind] = stems[-2:]
