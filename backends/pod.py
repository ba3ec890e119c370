"""A TPU pod slice: one worker process per host, started together over SSH.

A remote with ``hosts`` (``layerloom remote add NAME HOST --hosts H2,H3``) is a pod: its ``host``
runs process 0, which is also JAX's coordinator, and each of ``hosts`` one more process, in order.
Every host gets the job in its own folder (``WORKDIR/jobs/<id>/`` on the first, and
``.../<id>/process-<k>/`` on the others, so hosts that share a disk, or are one machine in tests,
never write each other's files); every process saves its checkpoints there. The run's events are
process 0's: the ``RemoteRun`` reads them exactly as for one host, and a stop signalled to process 0
is agreed by all (``backends.keras_jax``).

Layerloom sets ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` (the coordinator: host 0's address, as
``hostname -I`` gives it, or ``LAYERLOOM_POD_COORDINATOR`` from the remote's env, and a free port
there), ``KERAS_DISTRIBUTION_NUM_PROCESSES``, ``KERAS_DISTRIBUTION_PROCESS_ID``,
``LAYERLOOM_POD_HOSTS`` and ``LAYERLOOM_POD_TIMEOUT`` (the remote's env may set it; 120 s).
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import uuid
from collections.abc import Mapping
from typing import Any

from layerloom.backends.keras_jax import (
    ADDRESSES,
    NUM_PROCESSES,
    POD_HOSTS,
    PROCESS_ID,
)
from layerloom.backends.protocol import JOB_FILE, WORKER_LOG, Job
from layerloom.backends.ssh import SSHError
from layerloom.nodes.errors import LayerloomError

COORDINATOR = "LAYERLOOM_POD_COORDINATOR"  # host:port (or host) of process 0, if not detected

# Run on host 0 by its Python: its first address, and a port p with p + 1 (the rendezvous) free.
_FIND_PORT = (
    "import socket\n"
    "for _ in range(50):\n"
    "    a = socket.socket(); a.bind(('', 0)); p = a.getsockname()[1]\n"
    "    b = socket.socket()\n"
    "    try:\n"
    "        b.bind(('', p + 1)); break\n"
    "    except OSError:\n"
    "        a.close(); b.close()\n"
    "print(p)\n"
)


def pod_hosts(remote: Any) -> list[str]:
    """Every host of the pod in process order: the remote's own host, then its ``hosts``."""
    return [remote.host, *remote.hosts]


def process_folder(folder: str, process_id: int) -> str:
    return folder if process_id == 0 else f"{folder}/process-{process_id}"


def _coordinator(backend: Any) -> str:
    given = backend.remote.env.get(COORDINATOR, "")
    python = backend._home_relative(backend.python)
    port = backend.ssh.check(f"{python} -c {shlex.quote(_FIND_PORT)}", timeout=60).decode().split()
    if ":" in given:
        return given
    address = given
    if not address:
        found = backend.ssh.run("hostname -I 2>/dev/null", timeout=30).stdout.decode().split()
        address = found[0] if found else backend.remote.host
    return f"{address}:{port[-1]}"


def start_pod(backend: Any, job: Job, files: Mapping[str, bytes] | None = None) -> Any:
    """Start ``job`` on every host of ``backend``'s pod; a handle on process 0's job."""
    from layerloom.backends.remote import RemoteBackend, RemoteRun, _tar

    if backend.remote.keras_backend == "tensorflow":
        raise LayerloomError(
            f"remote {backend.remote.name} has hosts (a pod slice), which train on the JAX "
            "backend only: set its keras_backend to auto or jax"
        )
    if job.kind != "train":  # evaluation runs on one device of the first host
        return RemoteBackend(dataclasses.replace(backend.remote, hosts=[])).start(job, files)
    job_id = f"{job.kind}-{job.run_id}-{uuid.uuid4().hex[:8]}"
    folder = backend.job_dir(job_id)
    hosts = pod_hosts(backend.remote)
    backend.uploads = []
    dataset, base_dir = dict(job.dataset), job.base_dir
    members = [backend] + [
        RemoteBackend(
            dataclasses.replace(backend.remote, host=host, hosts=[]),
            remote_data=backend.remote_data,
        )
        for host in hosts[1:]
    ]
    for process_id, member in enumerate(members):  # everything is in place before any starts
        place = process_folder(folder, process_id)
        member.uploads = []
        copy = dataclasses.replace(job, dataset=dataset, base_dir=base_dir)
        copy.dataset = member._place_dataset(copy)
        copy.job_dir, copy.base_dir = place, None
        payload = {JOB_FILE: json.dumps(copy.to_json(), indent=1).encode("utf-8"), **(files or {})}
        quoted = member._home_relative(place)
        try:
            member.ssh.check(f"mkdir -p {quoted} && tar -xf - -C {quoted}", input=_tar(payload))
        except SSHError as error:
            raise LayerloomError(
                f"pod host {hosts[process_id]}: cannot place the job: {error}"
            ) from error
        backend.uploads += [f"{hosts[process_id]}: {u}" for u in member.uploads]
        if process_id == 0:
            job.dataset, job.job_dir, job.base_dir = copy.dataset, place, None
    backend.uploads.append(f"job {job_id} on {len(hosts)} hosts")
    pod_env = {
        ADDRESSES: _coordinator(backend),
        NUM_PROCESSES: str(len(hosts)),
        POD_HOSTS: ",".join(hosts),
    }
    for process_id, member in enumerate(members):
        try:
            _launch(
                member, process_folder(folder, process_id), {**pod_env, PROCESS_ID: str(process_id)}
            )
        except SSHError as error:
            raise LayerloomError(
                f"pod host {hosts[process_id]} (process {process_id}) did not start: {error}; "
                "the processes already started give up after LAYERLOOM_POD_TIMEOUT"
            ) from error
    return RemoteRun(backend, job_id)


def _launch(member: Any, folder: str, pod_env: dict[str, str]) -> None:
    """The worker in its own session on ``member``'s host (as ``RemoteBackend._launch``)."""
    assignments = member.env_assignments(
        TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", KERAS_BACKEND="jax", **pod_env
    )
    quoted = member._home_relative(folder)
    python = member._home_relative(member.python)
    member.ssh.check(
        f"cd {quoted} || exit 1; {assignments} setsid nohup {python} -m layerloom.backends.worker"
        f" {quoted}/{JOB_FILE} < /dev/null > /dev/null 2>> {quoted}/{WORKER_LOG} &"
    )
