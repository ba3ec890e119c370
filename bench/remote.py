"""Remote training over SSH (to this machine's own sshd on 127.0.0.1) next to local training,
side by side in one run: throughput ratio and event latency.

- Throughput: the worker's own batch events (samples/s between events) of the same model, data and
  settings, epoch 1 (tracing) excluded. Both workers run on this machine; the remote one is
  started detached through ssh and its events stream back through ``tail -F`` over the connection,
  so the ratio measures what following a job over SSH costs the training. Rounds alternate who
  goes first.
- Event latency: for every epoch event, the time from the worker writing it (its ``time`` field)
  to the orchestrator having recorded it in the project file (its checkpoint fetched included).

Run from the repository root: .venv/bin/python -m bench.remote   (see bench/README.md)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.training import start_run
from layerloom.backends.local import LocalBackend
from layerloom.backends.remote import RemoteBackend
from layerloom.backends.remotes import Remote, save_remotes
from tests.backends.sshd import SSHServer

ROUNDS = 4
SETTINGS = {"epochs": 6, "batch_size": 64}  # the defaults otherwise: checkpoints every 10 s
TEMPLATE = "small_cnn"


def one_run(project: Path, backend) -> tuple[float, list[float]]:
    """(median samples/s after epoch 1, per-epoch-event latencies in seconds)."""
    rates, latencies = [], []
    with open_project(project) as opened:
        session = start_run(opened, SETTINGS, backend=backend)
        for event in session.events(timeout=600):
            if event["type"] == "batch" and event["epoch"] > 1:
                rates.append(event["samples_per_second"])
            elif event["type"] == "epoch":
                latencies.append(time.time() - event["time"])
        assert session.status == "finished", session.error
        session.close()
    return statistics.median(rates), latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="layerloom-bench-remote-"))
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    server = SSHServer(scratch / "sshd")
    server.start()
    try:
        remote = Remote(
            name="bench",
            host="127.0.0.1",
            port=server.port,
            user=server.user,
            identity=str(server.user_key),
            known_hosts=str(server.known_hosts),
            python=sys.executable,
            workdir=str(scratch / "host"),
            # sshd starts jobs with a bare environment; give the remote worker this machine's
            # numeric-library settings so both sides run the same kernels and only the
            # transport differs (measured: OPENBLAS_CORETYPE alone moved throughput by ~30 %).
            env={k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "TF_"))},
        )
        save_remotes({"bench": remote})
        project = scratch / "bench.loom"
        create_project(project, TEMPLATE).close()
        figures: dict[str, list[float]] = {"local": [], "remote": []}
        lags: dict[str, list[float]] = {"local": [], "remote": []}
        for round_ in range(ROUNDS):
            order = ["local", "remote"] if round_ % 2 == 0 else ["remote", "local"]
            for kind in order:
                backend = LocalBackend() if kind == "local" else RemoteBackend(remote)
                rate, latency = one_run(project, backend)
                figures[kind].append(rate)
                lags[kind] += latency
                print(f"round {round_ + 1} {kind:<6}: {rate:8.0f} samples/s", flush=True)
    finally:
        server.stop()
    local, remote_rate = statistics.median(figures["local"]), statistics.median(figures["remote"])
    print(f"\n{TEMPLATE}, batch {SETTINGS['batch_size']}, {ROUNDS} rounds (medians)")
    print(f"throughput local  {local:8.0f} samples/s")
    print(
        f"throughput remote {remote_rate:8.0f} samples/s   ratio remote/local {remote_rate / local:.3f}"
    )
    for kind in ("local", "remote"):
        values = lags[kind]
        print(
            f"event latency {kind:<6} (worker -> recorded): p50 {percentile(values, 0.5) * 1000:6.0f} ms"
            f"  p95 {percentile(values, 0.95) * 1000:6.0f} ms  ({len(values)} epoch events)"
        )


if __name__ == "__main__":
    main()
