"""When checkpoints reach disk, with a stand-in model (no TensorFlow): the best state kept in
memory is the one written, and the last state is always written at the end."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from layerloom.backends.checkpoints import Checkpointer, Diverged
from layerloom.backends.protocol import checkpoint_files, event_writer


class FakeOptimizer:
    def __init__(self, model: FakeModel) -> None:
        self.model = model

    def save_own_variables(self, store: dict) -> None:
        store["0"] = np.array(self.model.step)


class FakeModel:
    """Just what the checkpointer touches: weights in and out, and the optimizer's state."""

    def __init__(self) -> None:
        self.weight, self.step = 0.0, 0
        self.optimizer = FakeOptimizer(self)

    def get_weights(self) -> list:
        return [np.array(self.weight)]

    def set_weights(self, weights: list) -> None:
        self.weight = float(weights[0])

    def save_weights(self, path: str) -> None:
        with open(path, "w") as handle:
            handle.write(str(self.weight))


def _train(interval: float, tmp_path, improved: list[bool]) -> list[dict]:
    """Checkpoint events, their paths resolved in the job folder they are named relative to."""
    stream = io.StringIO()
    model = FakeModel()
    checkpoints = Checkpointer(event_writer(stream), tmp_path, interval)
    for epoch, better in enumerate(improved, start=1):
        model.weight, model.step = float(epoch), epoch * 10
        checkpoints.epoch_end(model, epoch, model.step, better)
    checkpoints.flush(model, len(improved), model.step)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    for event in events:
        assert "/" not in event["path"]  # relative to the job folder, for any backend's fetch
        event["path"] = str(tmp_path / event["path"])
    return events


def _weight(event: dict) -> str:
    return checkpoint_files(event["path"])[0].read_text()


def test_a_long_interval_keeps_the_best_epoch_in_memory_and_writes_it_at_the_end(tmp_path) -> None:
    events = _train(3600, tmp_path, [True, True, False])
    assert [(e["kind"], e["epoch"], e["step"]) for e in events] == [
        ("best", 1, 10),  # the first epoch's end is always written (issue #15)
        ("last", 1, 10),
        ("best", 2, 20),
        ("last", 3, 30),
    ]
    assert _weight(events[2]) == "2.0" and _weight(events[3]) == "3.0"
    optimizer = np.load(checkpoint_files(events[2]["path"])[1])
    assert int(optimizer["0"]) == 20  # the best epoch's optimizer state, not today's


def test_interval_zero_writes_every_epoch_and_shares_files_when_best_is_last(tmp_path) -> None:
    events = _train(0, tmp_path, [True, False])
    kinds = [(e["kind"], e["epoch"]) for e in events]
    assert kinds == [("best", 1), ("last", 1), ("last", 2)]  # the end adds nothing new
    assert events[0]["path"] == events[1]["path"]


def test_a_long_run_keeps_only_the_newest_two_checkpoints_of_each_kind_on_disk(tmp_path) -> None:
    improved = [True, False, True] + [False] * 30 + [True, False]
    events = _train(0, tmp_path, improved)
    on_disk = sorted(p.name for p in tmp_path.glob("*.weights.h5"))
    assert len(on_disk) <= 4  # not one per epoch
    newest = {e["kind"]: e for e in events}  # the last announcement of each kind
    for event in newest.values():
        assert all(path.exists() for path in checkpoint_files(event["path"]))
    assert _weight(newest["last"]) == str(float(len(improved)))


def test_the_first_epoch_is_written_whatever_the_interval(tmp_path) -> None:
    """A run killed in its first seconds must have something to resume from."""
    stream = io.StringIO()
    model = FakeModel()
    checkpoints = Checkpointer(event_writer(stream), tmp_path, 3600)
    model.weight, model.step = 1.0, 10
    checkpoints.epoch_end(model, 1, 10, improved=False)
    (event,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (event["kind"], event["epoch"]) == ("last", 1)
    model.weight, model.step = 2.0, 20
    checkpoints.epoch_end(model, 2, 20, improved=False)  # the interval applies from then on
    assert len(stream.getvalue().splitlines()) == 1


def test_a_diverged_run_keeps_its_finite_best_and_never_writes_nan_weights(tmp_path) -> None:
    stream = io.StringIO()
    model = FakeModel()
    checkpoints = Checkpointer(event_writer(stream), tmp_path, 3600)
    for epoch in (1, 2):
        model.weight, model.step = float(epoch), epoch * 10
        checkpoints.epoch_end(model, epoch, model.step, improved=True)
    model.weight = float("nan")  # epoch 3 blew up
    checkpoints.diverged(model)
    with pytest.raises(Diverged, match="the weights became NaN or infinite"):
        checkpoints.flush(model, 3, 30, force=True)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["kind"], e["epoch"]) for e in events][-2:] == [("best", 2), ("last", 2)]
    for event in events:
        assert _weight({"path": str(tmp_path / event["path"])}) != "nan"
