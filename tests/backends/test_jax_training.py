"""The TPU path on CPU: the worker on Keras' JAX backend, DataParallel over four CPU devices.

Real JAX in real worker processes (the test session itself runs TensorFlow): data-parallel
training, the rules refused with a message naming the setting, resume and cancel, evaluation, a
pod host that never comes up, and the JAX-trained weights exported to TF Lite with parity through
the TensorFlow backend.
"""

from __future__ import annotations

import math
import os
import socket
from pathlib import Path

import pytest

pytest.importorskip("jax")

from layerloom.app.workbench import create_project, open_project  # noqa: E402
from layerloom.app.workbench.evaluating import evaluate  # noqa: E402
from layerloom.app.workbench.training import runs, start_run  # noqa: E402
from layerloom.backends.local import LocalBackend  # noqa: E402

pytestmark = pytest.mark.keras

JAX_ENV = {**os.environ, "KERAS_BACKEND": "jax", "JAX_NUM_CPU_DEVICES": "4"}
QUICK = {"batch_size": 32, "batch_event_every": 8, "checkpoint_seconds": 0}


def jax_backend(**env: str) -> LocalBackend:
    return LocalBackend(env={**JAX_ENV, **env})


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("jax") / "jax.loom"
    create_project(path, "mlp_classifier").close()
    return path


def run_to_end(session) -> list[dict]:
    try:
        return list(session.events(timeout=300))
    finally:
        session.close()


def test_jax_trains_data_parallel_resumes_stops_evaluates_and_exports(project, tmp_path) -> None:
    with open_project(project) as opened:
        events = run_to_end(start_run(opened, {**QUICK, "epochs": 3}, backend=jax_backend()))
        assert events[-1]["type"] == "finished", events[-1]
        (started,) = [e for e in events if e["type"] == "started"]
        assert started["keras_backend"] == "jax" and started["accelerator"] == "cpu"
        assert started["device_count"] == 4 and len(started["devices"]) == 4
        assert started["strategy"] == "DataParallel"
        train = started["samples"]["train"]
        assert started["steps_per_epoch"] == train // 32  # drop_remainder: whole batches only
        losses = [e["metrics"]["loss"] for e in events if e["type"] == "epoch"]
        assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
        assert losses[0] > losses[1] > losses[2]

        # Resume run 1 on JAX (weights and optimizer state), then stop it: a cancelled checkpoint.
        resumed = start_run(opened, {"epochs": 40}, resume_run_id=1, backend=jax_backend())
        for event in resumed.events(timeout=300):
            if event["type"] == "started":
                assert event["initial_step"] == 3 * (train // 32) and event["initial_epoch"] == 3
            if event["type"] == "epoch":
                resumed.handle.stop()
        resumed.close()
        assert resumed.status == "cancelled", resumed.error
        first, second = runs(opened)
        assert (first.status, second.status) == ("finished", "cancelled")
        assert 3 < second.epochs < 40

        report = evaluate(opened, 1, backend=jax_backend())
        assert (
            report.task == "classification" and report.samples == started["samples"]["validation"]
        )
        assert report.accuracy is not None and report.accuracy > 0.9

    # The JAX-trained weights through the TensorFlow backend: TF Lite, with parity.
    from layerloom.app.cli import main

    out = tmp_path / "phone"
    assert main(["export", str(project), "--target", "tflite", "--run", "1", "-o", str(out)]) == 0
    assert (out / "model.tflite").is_file() and (out / "parity.json").is_file()


def test_a_batch_size_that_does_not_split_over_the_devices_is_refused(project) -> None:
    with open_project(project) as opened:
        session = start_run(opened, {**QUICK, "batch_size": 30}, backend=jax_backend())
        events = run_to_end(session)
    assert events[-1]["type"] == "failed"
    assert events[-1]["reason"] == (
        "batch_size 30 is not a multiple of the 4 devices the JAX backend trains on "
        "(DataParallel gives each device an equal slice of every batch): set batch_size to 28 or 32"
    )
    assert not [e for e in events if e["type"] == "started"]


def test_a_pod_host_that_never_comes_up_is_named(project) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pod = {
        "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
        "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
        "KERAS_DISTRIBUTION_PROCESS_ID": "0",
        "LAYERLOOM_POD_HOSTS": "tpu-a,tpu-b",
        "LAYERLOOM_POD_TIMEOUT": "3",
    }
    with open_project(project) as opened:
        events = run_to_end(start_run(opened, QUICK, backend=jax_backend(**pod)))
    assert events[-1]["type"] == "failed"
    assert events[-1]["reason"].startswith(
        "pod host tpu-b (process 1) did not come up within 3 s (LAYERLOOM_POD_TIMEOUT)"
    )
