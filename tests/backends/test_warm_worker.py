"""The warm worker (``backends.warm``): a job it takes runs exactly as on a cold worker.

Real workers (each imports TensorFlow), real signals, a real project. The pool is process-global:
each test leaves it shut down.
"""

from __future__ import annotations

import os
import time

import pytest

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.training import start_run
from layerloom.backends.base import JobState
from layerloom.backends.local import LocalBackend, job_state
from layerloom.backends.warm import WARM_POOL
from layerloom.nodes.job_folders import process_alive

ONE_EPOCH = {"epochs": 1, "batch_size": 32, "device": "cpu"}
LONG = {"epochs": 200, "batch_size": 16, "batch_event_every": 1, "device": "cpu"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = tmp_path_factory.mktemp("warm") / "wärm projekt.loom"
    create_project(path, "mlp_classifier").close()
    return path


@pytest.fixture
def pool(tmp_path):
    yield WARM_POOL
    WARM_POOL.shutdown()


def ready_worker(timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = WARM_POOL.current()
        if worker is not None and worker.ready:
            return worker
        time.sleep(0.05)
    raise AssertionError("no warm worker got ready")


def run_to_end(project, settings):
    with open_project(project) as opened:
        session = start_run(opened, settings)
        try:
            events = list(session.events(timeout=180))
            session.wait()
        finally:
            session.close()
        return session, events


def shape(events):
    """What must not depend on the worker being warm: the kinds of events, in order, and the
    numbers (training is seeded)."""
    return [
        (e["type"], {k: v for k, v in e.items() if k in ("metrics", "status", "epoch", "step")})
        for e in events
        if e["type"] not in ("batch", "health", "log")
    ]


def test_a_warm_job_matches_a_cold_one_and_the_worker_is_replaced(project, pool) -> None:
    pool.start(device="cpu", wait=True)
    waiting = ready_worker()
    # Another device than the warm worker's: a cold start, and the warm one keeps waiting.
    cold, cold_events = run_to_end(project, {**ONE_EPOCH, "device": "auto"})
    assert not cold.handle.warm
    assert pool.current() is waiting and waiting.alive()

    warm, warm_events = run_to_end(project, ONE_EPOCH)
    assert warm.handle.warm and warm.handle.pid == waiting.process.pid
    assert warm.handle.job_id == str(waiting.folder)
    assert warm.status == cold.status == "finished"
    assert shape(warm_events) == shape(cold_events)
    assert [e["seq"] for e in warm_events] == list(range(1, len(warm_events) + 1))
    assert not os.path.exists(warm.handle.job_id)  # closed: its folder went, as a cold one's

    replacement = ready_worker()
    assert replacement.process.pid != waiting.process.pid and replacement.alive()
    assert replacement.folder != waiting.folder


def test_a_warm_job_can_be_cancelled_and_killed(project, pool) -> None:
    pool.start(device="cpu", wait=True)
    with open_project(project) as opened:
        for end in ("cancel", "kill"):
            worker = ready_worker()
            session = start_run(opened, LONG)
            try:
                assert session.handle.warm and session.handle.pid == worker.process.pid
                folder = session.handle.folder
                for event in session.events(timeout=120):
                    if event["type"] == "batch" and event["step"] >= 2:
                        # The job's folder tells a running job as a cold one's does.
                        assert job_state(folder) is JobState.RUNNING
                        getattr(session, end)()
                        break
                status = session.wait()
            finally:
                session.close()
            if end == "cancel":
                assert status == "cancelled"
            else:
                assert status == "failed"
                assert "ended by Layerloom" in (session.error or "")
            assert not process_alive(worker.process.pid)


def test_shutdown_ends_the_waiting_worker_and_removes_its_folder(pool, tmp_path) -> None:
    pool.start(root=tmp_path, wait=True)
    worker = pool.current()
    assert worker is not None and worker.alive()
    pool.shutdown()
    assert not worker.alive() and not worker.folder.exists()
    assert pool.current() is None
    # No pool: a job starts cold.
    assert WARM_POOL.take(LocalBackend().python, tmp_path, "auto", None) is None


def test_the_replacement_waits_for_the_taken_workers_job(pool, tmp_path) -> None:
    # Its TensorFlow import would take a core from the job the user waits for.
    pool.start(root=tmp_path, device="cpu", wait=True)
    taken = pool.take(LocalBackend().python, tmp_path, "cpu", None)
    assert taken is not None and taken.alive()
    time.sleep(1.0)
    assert pool.current() is None  # its job still runs: no replacement yet
    taken.discard()  # the job's process ends
    replacement = ready_worker()
    assert replacement.process.pid != taken.process.pid
