"""The remote workflow from the command line, as a user types it, against a real sshd:
``remote add/list/check/setup/remove``, ``train --remote``, ``--detach``, ``attach``, ``stop``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backends.sshd import AVAILABLE, SSHServer

pytestmark = pytest.mark.skipif(
    not AVAILABLE, reason="OpenSSH (sshd, ssh) is not installed; installer/setup.sh installs it"
)
LAYERLOOM = Path(sys.executable).parent / "layerloom"


@pytest.fixture
def cli(tmp_path: Path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}

    def run(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LAYERLOOM), *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def add_box(cli, server: SSHServer, tmp_path: Path, *extra: str) -> None:
    added = cli(
        "remote", "add", "box", f"{server.user}@127.0.0.1", "--port", str(server.port),
        "--identity", str(server.user_key), "--known-hosts", str(server.known_hosts),
        "--workdir", str(tmp_path / "host"), *extra,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def test_remotes_are_added_listed_checked_and_removed_per_user(cli, server, tmp_path) -> None:
    add_box(cli, server, tmp_path, "--python", sys.executable, "--env", "A_SETTING=1")
    listed = json.loads(cli("remote", "list", "--json").stdout)
    assert [r["name"] for r in listed] == ["box"] and listed[0]["user"] == server.user
    config = (tmp_path / "config" / "layerloom" / "remotes.toml").read_text()
    assert "A_SETTING" in config and "BEGIN OPENSSH" not in config  # no key material
    checked = cli("remote", "check", "box", "--json")
    assert checked.returncode == 0, checked.stderr
    found = json.loads(checked.stdout)
    assert (
        found["layerloom"]
        and found["accelerator"] == "cpu"
        and "tensorflow" in found["keras_backends"]
    )
    assert cli("remote", "add", "box", "elsewhere").returncode == 1  # no silent overwrite
    assert cli("remote", "remove", "box").returncode == 0
    assert json.loads(cli("remote", "list", "--json").stdout) == []
    unknown = cli("remote", "check", "box")
    assert unknown.returncode == 1 and "no remote named 'box'" in unknown.stderr


def test_check_refuses_an_unknown_host_key_in_one_line(cli, server, tmp_path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    added = cli(
        "remote", "add", "box", "127.0.0.1", "--port", str(server.port), "--user", server.user,
        "--identity", str(server.user_key), "--known-hosts", str(empty),
        "--python", sys.executable,
    )  # fmt: skip
    assert added.returncode == 0
    refused = cli("remote", "check", "box")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not known" in lines[0] and "SHA256:" in lines[0]
    assert "Traceback" not in refused.stderr


@pytest.mark.keras
def test_train_remotely_detach_attach_and_stop_from_the_cli(cli, server, tmp_path) -> None:
    add_box(cli, server, tmp_path, "--python", sys.executable)
    assert cli("new", "p.loom", "--template", "mlp_classifier").returncode == 0
    trained = cli("train", "p.loom", "--remote", "box", "--epochs", "2")
    assert trained.returncode == 0, trained.stderr
    assert "run 1 finished" in trained.stdout
    runs = cli("runs", "p.loom")
    assert "remote:box" in runs.stdout and f":{server.port}" in runs.stdout
    exported = cli("export", "p.loom", "--target", "keras", "-o", "out")  # like a local run
    assert exported.returncode == 0, exported.stderr

    detached = cli("train", "p.loom", "--remote", "box", "--epochs", "3", "--detach")
    assert detached.returncode == 0, detached.stderr
    assert "layerloom attach p.loom 2" in detached.stdout
    attached = cli("attach", "p.loom", "2")
    assert attached.returncode == 0, attached.stderr
    assert "run 2 finished" in attached.stdout
    done = json.loads(cli("runs", "p.loom", "--json").stdout)
    assert [r["status"] for r in done] == ["finished", "finished"] and done[1]["epochs"] == 3

    long = cli("train", "p.loom", "--remote", "box", "--epochs", "500", "--detach")
    assert long.returncode == 0, long.stderr
    stopped = cli("stop", "p.loom", "3")
    assert stopped.returncode == 0, stopped.stderr
    followed = cli("attach", "p.loom", "3")
    assert followed.returncode == 130 and "continue it with --resume 3" in followed.stderr
    not_running = cli("stop", "p.loom", "3")
    assert not_running.returncode == 1 and "not running" in not_running.stderr


def test_setup_makes_the_host_runtime_with_this_version(cli, server, tmp_path) -> None:
    """`remote setup` on a host without a package index (--wheelhouse): a venv in the workdir
    with this very Layerloom. The host's other runtime packages come from this environment
    (PYTHONPATH in the remote's env), so nothing is downloaded."""
    import sysconfig

    site = sysconfig.get_path("purelib")
    add_box(cli, server, tmp_path, "--env", f"PYTHONPATH={site}")
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    before = cli("remote", "check", "box")
    assert before.returncode == 1 and "remote setup box" in before.stderr
    setup = cli("remote", "setup", "box", "--wheelhouse", str(wheelhouse), timeout=900)
    assert setup.returncode == 0, setup.stderr
    assert (tmp_path / "host" / "venv" / "bin" / "python").exists()
    checked = cli("remote", "check", "box", "--json")
    assert checked.returncode == 0, checked.stderr
    found = json.loads(checked.stdout)
    assert found["executable"].startswith(str(tmp_path / "host" / "venv"))
    # The host falls behind (another Layerloom release there): check refuses and says what to do.
    (metadata,) = (tmp_path / "host" / "venv").glob(
        "lib/python*/site-packages/layerloom-*/METADATA"
    )
    text = metadata.read_text()
    metadata.write_text(text.replace(f"Version: {found['layerloom']}", "Version: 0.0.1", 1))
    behind = cli("remote", "check", "box")
    assert behind.returncode == 1
    assert f"runs Layerloom 0.0.1 but this machine runs {found['layerloom']}" in behind.stderr
    assert "layerloom remote setup box" in behind.stderr
