"""The worker protocol without TensorFlow: jobs, events, the writer's numbering, exit reasons."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading

import pytest

from layerloom.backends.local import exit_reason
from layerloom.backends.protocol import (
    Job,
    ProtocolError,
    checkpoint_files,
    event_writer,
    make_event,
    parse_line,
    serialise,
)
from layerloom.backends.worker import OUT_OF_MEMORY, describe_failure
from layerloom.nodes.errors import DatasetError


def _job(tmp_path, **extra) -> Job:
    return Job(
        run_id=7,
        plan={"name": "m", "inputs": [], "layers": [], "outputs": []},
        dataset={"kind": "sample", "name": "tabular_classes"},
        settings={"epochs": 2},
        job_dir=str(tmp_path),
        **extra,
    )


def test_job_round_trips_through_a_file(tmp_path) -> None:
    job = _job(tmp_path, resume_from=str(tmp_path / "last"), initial_epoch=3)
    path = job.write(tmp_path / "job.json")
    assert Job.read(path) == job
    assert json.loads(path.read_text())["format"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 99}, "newer Layerloom"),
        ({"kind": 3}, "job kind must be a name"),
        ({"plan": None}, None),
    ],
)
def test_bad_jobs_are_refused_with_a_reason(tmp_path, change, message) -> None:
    data = {**_job(tmp_path).to_json(), **change}
    if change == {"plan": None}:
        del data["plan"]
        message = "missing plan"
    with pytest.raises(ProtocolError, match=message):
        Job.from_json(data)


def test_a_worker_refuses_a_job_kind_it_does_not_run(tmp_path) -> None:
    from layerloom.backends.job_control import StopRequest, run_job

    job = Job.from_json({**_job(tmp_path).to_json(), "kind": "dance"})
    with pytest.raises(ProtocolError, match="unknown job kind 'dance'; this worker runs .*train"):
        run_job(job, None, StopRequest())  # type: ignore[arg-type]


def test_an_unreadable_job_file_is_a_protocol_error(tmp_path) -> None:
    (tmp_path / "job.json").write_text("[1, 2")
    with pytest.raises(ProtocolError, match="cannot read the job file"):
        Job.read(tmp_path / "job.json")


def test_events_serialise_and_parse_back() -> None:
    event = make_event(3, "epoch", epoch=1, global_step=10, metrics={"loss": 0.5}, lr=0.001)
    line = serialise(event)
    assert "\n" not in line
    assert parse_line(line) == event
    assert parse_line(line.encode()) == event


def test_non_finite_values_become_null_so_every_reader_can_parse_them() -> None:
    event = make_event(1, "batch", epoch=1, step=1, global_step=1, samples_per_second=5.0,
                       metrics={"loss": float("nan"), "acc": float("inf")})  # fmt: skip
    parsed = json.loads(serialise(event))
    assert parsed["metrics"] == {"loss": None, "acc": None}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not a JSON event line"),
        ("[1]", "must be a JSON object"),
        ('{"seq": 0, "type": "log", "time": 1, "level": "info", "message": "x"}', "seq"),
        ('{"seq": 1, "type": "party", "time": 1}', "unknown event type"),
        ('{"seq": 1, "type": "log", "time": 1, "level": "info"}', "missing message"),
        ('{"seq": 1, "type": "finished", "time": 1, "status": "meh", "metrics": {},'
         ' "best_epoch": null}', "unknown status"),
    ],
)  # fmt: skip
def test_malformed_events_are_refused(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_line(line)


def test_writer_numbers_events_strictly_across_threads_and_stops_after_a_terminal_one() -> None:
    stream = io.StringIO()
    writer = event_writer(stream)

    def burst() -> None:
        for _ in range(50):
            writer.log("hello")

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.emit("finished", status="finished", metrics={}, best_epoch=None)
    assert writer.emit("log", level="info", message="too late") is None
    seqs = [parse_line(line)["seq"] for line in stream.getvalue().splitlines()]
    assert seqs == list(range(1, 202))


def test_checkpoint_files_share_a_stem(tmp_path) -> None:
    weights, optimizer = checkpoint_files(tmp_path / "ckpt-0001-e1")
    assert weights.name == "ckpt-0001-e1.weights.h5"
    assert optimizer.name == "ckpt-0001-e1.optimizer.npz"


def test_failures_are_described_in_one_line() -> None:
    assert describe_failure(DatasetError("data.csv has 3 columns")) == "data.csv has 3 columns"
    assert describe_failure(MemoryError()) == OUT_OF_MEMORY
    oom = type("ResourceExhaustedError", (Exception,), {})("OOM when allocating tensor")
    assert describe_failure(oom) == OUT_OF_MEMORY
    long = describe_failure(ValueError("first line\nsecond line"))
    assert long == "ValueError: first line"


def test_exit_reasons_name_the_signal() -> None:
    assert "killed (SIGKILL" in exit_reason(-signal.SIGKILL)
    assert exit_reason(-signal.SIGSEGV) == "the training process crashed (SIGSEGV)"
    assert "exited with code 3" in exit_reason(3)


def test_worker_reports_an_unreadable_job_as_failed_without_loading_tensorflow(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "layerloom.backends.worker", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    events = [parse_line(line) for line in result.stdout.splitlines()]
    assert [e["type"] for e in events] == ["failed"]
    assert "cannot read the job file" in events[0]["reason"]
    assert "Traceback" not in events[0]["reason"] and "Traceback" in events[0]["detail"]
