"""A two-host pod slice on localhost: two worker processes launched over a real sshd.

The remote's ``hosts`` names a second host (127.0.0.1 again), so ``backends.pod`` starts one JAX
worker per host with the ``KERAS_DISTRIBUTION_*`` variables; two CPU devices each make four global
devices. The run's events are process 0's, each process saves in its own folder, and the losses
match one process with four devices.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("jax")

from layerloom.app.workbench import create_project, open_project  # noqa: E402
from layerloom.app.workbench.training import runs, start_run  # noqa: E402
from layerloom.backends.local import LocalBackend  # noqa: E402
from layerloom.backends.remote import RemoteBackend  # noqa: E402
from tests.backends.sshd import AVAILABLE  # noqa: E402
from tests.backends.test_remote import make_remote  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(not AVAILABLE, reason="OpenSSH (sshd, ssh) is not installed"),
]

SETTINGS = {"epochs": 2, "batch_size": 32, "batch_event_every": 8, "checkpoint_seconds": 0}


def epoch_losses(events: list[dict]) -> list[float]:
    return [e["metrics"]["loss"] for e in events if e["type"] == "epoch"]


def test_two_hosts_train_as_one_pod_like_one_process_with_four_devices(
    server, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = tmp_path / "pod.loom"
    create_project(path, "mlp_classifier").close()
    remote = make_remote(
        server,
        tmp_path / "host",
        hosts=["127.0.0.1"],
        keras_backend="jax",
        env={"JAX_NUM_CPU_DEVICES": "2", "LAYERLOOM_POD_TIMEOUT": "60"},
    )
    with open_project(path) as opened:
        session = start_run(opened, SETTINGS, backend=RemoteBackend(remote))
        pod_events = list(session.events(timeout=120))
        job = tmp_path / "host" / "jobs" / Path(session.handle.folder).name
        other = job / "process-1"
        assert sorted(p.name for p in other.glob("*.weights.h5")), "process 1 saves too"
        lines = (other / "events.jsonl").read_text().splitlines()
        assert [json.loads(line)["type"] for line in lines].count("finished") == 1
        session.close()
        env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_NUM_CPU_DEVICES": "4"}
        single = start_run(opened, SETTINGS, backend=LocalBackend(env=env))
        single_events = list(single.events(timeout=120))
        single.close()
        pod_run, single_run = runs(opened)
    assert pod_events[-1]["type"] == "finished", pod_events[-1]
    (started,) = [e for e in pod_events if e["type"] == "started"]
    assert started["device_count"] == 4 and started["keras_backend"] == "jax"
    assert pod_run.status == single_run.status == "finished"
    assert pod_run.epochs == 2 and pod_run.backend == "remote:box"
    assert epoch_losses(pod_events) == pytest.approx(epoch_losses(single_events), rel=1e-4)
