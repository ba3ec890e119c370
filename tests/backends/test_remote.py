"""Training on another machine over SSH, against a real OpenSSH server on 127.0.0.1.

The "remote host" is this machine seen through sshd, with this environment's Python as the host's
Python: the client side (the user's ssh, detached jobs, the streamed event log, reconnects,
uploads) is the production code. The server is killed mid-run as a dropped network would be.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.training import attach_run, runs, start_run, stop_run
from layerloom.backends.base import JobState
from layerloom.backends.remote import RemoteBackend
from layerloom.backends.remotes import Remote, save_remotes
from layerloom.nodes.errors import LayerloomError
from tests.backends.sshd import AVAILABLE, SSHServer

pytestmark = pytest.mark.skipif(
    not AVAILABLE, reason="OpenSSH (sshd, ssh) is not installed; installer/setup.sh installs it"
)

QUICK = {"batch_size": 16, "batch_event_every": 1, "checkpoint_seconds": 0}


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch) -> Path:
    """Remotes are per user: each test has its own config folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


def make_remote(server: SSHServer, workdir: Path, **overrides) -> Remote:
    """A remote for the test server, saved in the user's remotes (as `remote add` does)."""
    settings = {
        "name": "box",
        "host": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "identity": str(server.user_key),
        "known_hosts": str(server.known_hosts),
        "python": sys.executable,  # this environment, as the host's Layerloom runtime
        "workdir": str(workdir),
        **overrides,
    }
    remote = Remote(**settings)
    save_remotes({remote.name: remote})
    return remote


@pytest.fixture
def csv_project(tmp_path: Path) -> Path:
    """An MLP project on a small CSV file, so there is data to upload."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(120, 20))
    labels = np.digitize(features[:, 0] + features[:, 1], [-0.5, 0.5])  # 3 classes
    rows = [",".join([f"f{i}" for i in range(20)] + ["label"])]
    rows += [
        ",".join(f"{v:.4f}" for v in row) + f",{y}" for row, y in zip(features, labels, strict=True)
    ]
    data = tmp_path / "data.csv"
    data.write_text("\n".join(rows) + "\n")
    path = tmp_path / "remote.loom"
    create_project(path, "mlp_classifier").close()
    from layerloom.app.cli import main

    assert main(["data", str(path), "--csv", str(data), "--target", "label"]) == 0
    return path


def epoch_rows(path: Path, run_id: int) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT epoch, name, COUNT(*) FROM metrics WHERE run_id = ? AND split = 'train'"
            " GROUP BY epoch, name ORDER BY epoch, name",
            [run_id],
        ).fetchall()


@pytest.mark.keras
def test_a_remote_run_trains_records_and_uploads_its_data_once(
    server, csv_project, tmp_path
) -> None:
    backend = RemoteBackend(make_remote(server, tmp_path / "host"))
    with open_project(csv_project) as opened:
        first = start_run(opened, {**QUICK, "epochs": 2}, backend=backend)
        assert any(item.startswith("data data.csv") for item in backend.uploads)
        assert first.wait() == "finished", first.error
        first.close()
        second = start_run(opened, {**QUICK, "epochs": 1}, backend=backend)
        assert not any(item.startswith("data") for item in backend.uploads)  # sent nothing
        assert second.wait() == "finished", second.error
        second.close()
        done = runs(opened)
        assert [r.status for r in done] == ["finished", "finished"]
        assert done[0].backend == "remote:box" and done[0].host.endswith(f":{server.port}")
        assert done[0].epochs == 2 and done[0].best_epoch is not None
    with sqlite3.connect(csv_project) as conn:
        blobs = conn.execute("SELECT length(weights) FROM checkpoints WHERE run_id = 1").fetchall()
    assert blobs and all(size > 1000 for (size,) in blobs)  # the weights came back
    assert not list((tmp_path / "host" / "jobs").iterdir())  # finished jobs are cleaned up


@pytest.mark.keras
def test_a_dropped_connection_loses_nothing_and_attach_finishes_the_run(
    server, csv_project, tmp_path
) -> None:
    remote = make_remote(server, tmp_path / "host")
    epochs = 6
    with open_project(csv_project) as opened:
        session = start_run(opened, {**QUICK, "epochs": epochs}, backend=RemoteBackend(remote))
        for event in session.events(timeout=300):
            if event["type"] == "epoch":
                break
        server.stop()  # the network goes away; the job on the host goes on
        session.detach()  # and so does the laptop
        run_id = session.run_id
    server.start()
    with open_project(csv_project) as opened:
        (summary,) = runs(opened)
        assert summary.status == "running"  # its host cannot confirm it ended: never given up
        attached = attach_run(opened, run_id)
        assert attached.wait() == "finished", attached.error
        attached.close()
        (summary,) = runs(opened)
        assert summary.status == "finished" and summary.epochs == epochs
    rows = epoch_rows(csv_project, run_id)
    assert {epoch for epoch, _, _ in rows} == set(range(1, epochs + 1))
    assert all(count == 1 for _, _, count in rows)  # every epoch's metrics exactly once


@pytest.mark.keras
def test_a_remote_run_stops_resumably_and_resumes_remotely(server, csv_project, tmp_path) -> None:
    backend = RemoteBackend(make_remote(server, tmp_path / "host"))
    with open_project(csv_project) as opened:
        session = start_run(opened, {**QUICK, "epochs": 200}, backend=backend)
        stopped = False
        for event in session.events(timeout=300):
            if event["type"] == "epoch" and not stopped:
                assert "asked run 1 to stop" in stop_run(opened, session.run_id)
                stopped = True
        assert session.status == "cancelled"
        session.close()
        (stopped_run,) = runs(opened)
        assert stopped_run.status == "cancelled" and stopped_run.epochs < 200
        more = stopped_run.epochs + 2
        resumed = start_run(opened, {"epochs": more}, resume_run_id=1, backend=backend)
        assert resumed.wait() == "finished", resumed.error
        resumed.close()
        first, second = runs(opened)
        assert first.status == "cancelled" and second.resumed_from == 1
        assert second.backend == "remote:box" and second.epochs == more


def test_an_unknown_or_changed_host_key_is_refused_and_nothing_is_recorded(
    server, tmp_path
) -> None:
    path = tmp_path / "p.loom"
    create_project(path, "mlp_classifier").close()
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    other = tmp_path / "other_key"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    wrong = tmp_path / "wrong_known_hosts"
    key = (tmp_path / "other_key.pub").read_text().split()
    wrong.write_text(f"[127.0.0.1]:{server.port} {key[0]} {key[1]}\n")
    for known_hosts, words in ((empty, "is not known"), (wrong, "has CHANGED")):
        backend = RemoteBackend(
            make_remote(server, tmp_path / "host", known_hosts=str(known_hosts))
        )
        with open_project(path) as opened:
            with pytest.raises(LayerloomError, match=words) as refused:
                start_run(opened, {**QUICK, "epochs": 1}, backend=backend)
            assert "SHA256:" in str(refused.value)  # the fingerprint the host offers
            assert runs(opened) == []
        assert backend.state("any-job") is JobState.UNKNOWN


@pytest.mark.keras
def test_command_lines_on_the_host_are_quoted_whatever_the_paths_hold(
    server, csv_project, tmp_path
) -> None:
    """A work folder whose name holds spaces, quotes and a command substitution is only ever a
    name on the host: the run trains there and nothing in it is executed."""
    workdir = tmp_path / 'it\'s a "host" $(touch PWNED) `touch PWNED2`'
    backend = RemoteBackend(make_remote(server, workdir))
    with open_project(csv_project) as opened:
        session = start_run(opened, {**QUICK, "epochs": 1}, backend=backend)
        assert session.wait() == "finished", session.error
        session.close()
    assert (workdir / "data").is_dir()  # the upload landed in the folder of that very name
    assert not list(tmp_path.rglob("PWNED*")) and not list(Path.home().glob("PWNED*"))
