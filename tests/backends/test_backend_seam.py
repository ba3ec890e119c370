"""The Backend seam, exercised by two real backends: the worker in a child process (local) and the
worker's own code on a thread of this process (inprocess). The workbench talks to them through the
protocol alone; each run trains for real, and its events resume after any sequence number with no
gap and no duplicate, from the live handle or from a reader that attaches later.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.evaluating import evaluate
from layerloom.app.workbench.training import runs, start_run
from layerloom.backends.base import Backend, JobState, RunHandle
from layerloom.backends.protocol import EVENT_LOG, TRAINING_EVENTS
from layerloom.backends.registry import create_backend
from layerloom.nodes.events import EventLog

QUICK = {"epochs": 2, "batch_size": 32, "batch_event_every": 1, "checkpoint_seconds": 0}
BACKENDS = ["local", "inprocess"]


def seqs(events: list[dict]) -> list[int]:
    return [event["seq"] for event in events]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "seam.loom"
    create_project(path, "mlp_classifier").close()
    return path


@pytest.mark.parametrize("name", BACKENDS)
def test_every_registered_backend_implements_the_protocol(name: str, tmp_path: Path) -> None:
    backend = create_backend(name, root=tmp_path)
    assert isinstance(backend, Backend)
    assert backend.info().name == name
    assert backend.state(str(tmp_path / "no-such-job")) is JobState.ENDED


@pytest.mark.keras
@pytest.mark.parametrize("name", BACKENDS)
def test_the_workbench_trains_records_and_evaluates_through_the_protocol_alone(
    name: str, project: Path, tmp_path: Path, keras_session
) -> None:
    backend = create_backend(name, root=tmp_path / "jobs")
    with open_project(project) as opened:
        session = start_run(opened, QUICK, backend=backend)
        assert isinstance(session.handle, RunHandle)
        live = list(session.events(timeout=300))
        assert session.status == "finished", session.error
        # The whole stream again, and from any point: no gap, no duplicate.
        everything = list(session.handle.events(after=0))
        assert seqs(everything) == list(range(1, len(everything) + 1)) == seqs(live)
        for cut in (1, len(everything) // 2, len(everything) - 1):
            assert seqs(list(session.handle.events(after=cut))) == seqs(everything)[cut:]
        # The job folder's event log holds the same stream, for a reader that attaches later.
        log = EventLog(Path(session.handle.job_id) / EVENT_LOG, TRAINING_EVENTS)
        assert log.read_after(0) == everything
        session.close()
        assert not Path(session.handle.job_id).exists()

        (run,) = runs(opened)
        assert run.status == "finished" and run.epochs == 2 and run.best_epoch is not None
        assert run.backend == name and run.job_id == session.handle.job_id
        assert run.accelerator == "cpu" and run.keras_backend == "tensorflow"
        assert run.device_count == 1 and run.exit_reason == "finished"
        assert run.host
        result = evaluate(opened, run.id, backend=backend)
        assert result.samples > 0 and result.accuracy is not None
        with sqlite3.connect(project) as conn:
            kinds = {k for (k,) in conn.execute("SELECT kind FROM checkpoints WHERE run_id = 1")}
        assert kinds == {"best", "last"}


@pytest.mark.keras
def test_a_second_reader_attaches_by_job_id_and_records_the_rest_without_a_gap(
    project: Path, tmp_path: Path
) -> None:
    """The live reader records the first events and goes away; a later reader finds the job by
    its id and continues from the last sequence number recorded, as a re-attached GUI would."""
    backend = create_backend("local", root=tmp_path / "jobs")
    with open_project(project) as opened:
        session = start_run(opened, {**QUICK, "epochs": 3}, backend=backend)
        first = []
        for event in session.events(timeout=300):
            first.append(event)
            if event["type"] == "epoch":
                break
        recorded = session.last_seq
        attached = create_backend("local", root=tmp_path / "jobs").attach(session.handle.job_id)
        rest = list(attached.events(after=recorded, timeout=300))
        assert rest and rest[0]["seq"] == recorded + 1
        assert seqs(first + rest) == list(range(1, rest[-1]["seq"] + 1))
        assert rest[-1]["type"] == "finished"
        for event in rest:
            session.record(event)
        assert attached.wait(timeout=60) == 0
        assert attached.state() is JobState.ENDED
        session.handle.wait()
        session.handle.close()
        (run,) = runs(opened)
        assert run.status == "finished" and run.epochs == 3


def test_a_half_written_last_line_is_left_for_later(tmp_path: Path) -> None:
    """A connection that drops mid-line (or a worker caught mid-write) must not lose or mangle
    the event: it is read once, whole, when its newline arrives."""
    log_path = tmp_path / EVENT_LOG
    events = [TRAINING_EVENTS.make(n, "log", level="info", message=f"m{n}") for n in (1, 2, 3)]
    from layerloom.nodes.events import serialise

    lines = [serialise(event) + "\n" for event in events]
    log_path.write_text(lines[0] + lines[1] + lines[2][:10])
    log = EventLog(log_path, TRAINING_EVENTS)
    assert seqs(log.read_after(0)) == [1, 2]
    assert log.read_after(2) == []
    with open(log_path, "a") as stream:
        stream.write(lines[2][10:])
    assert seqs(log.read_after(2)) == [3]
    assert log.read_after(3) == []


def test_the_export_worker_speaks_the_same_numbered_protocol(tmp_path: Path) -> None:
    """Export events carry sequence numbers too; a worker that dies without a terminal event is
    given one, numbered after the last."""
    from layerloom.app.workbench.export_process import ExportProcess
    from layerloom.exporters.job import ExportJob

    job = ExportJob(target="keras", options={}, plan={}, weights="none", out_dir=str(tmp_path))
    process = ExportProcess(job, tmp_path)
    events = list(process.events(timeout=120))
    process.wait()
    assert events[-1]["type"] == "failed" and seqs(events) == list(range(1, len(events) + 1))
    assert os.path.exists(tmp_path / "export.log")
