"""Training on Keras' JAX backend: every device through ``keras.distribution.DataParallel``.

This is Keras' recommended path on TPUs (``tf.distribute.TPUStrategy`` under Keras 3 is not), and
it works the same on GPUs and on CPU devices (``JAX_NUM_CPU_DEVICES=4`` in tests). The worker runs
on it when ``KERAS_BACKEND=jax`` is set before Keras is imported (``backends.remote`` sets it for
a remote whose accelerator is ``tpu`` or whose Keras backend is ``jax``). TensorFlow still feeds
the data (tf.data), with its GPUs hidden so it never holds accelerator memory JAX needs.

Data parallelism has rules, checked before training with a message naming the setting: the global
batch size must be a multiple of the device count (each device takes an equal slice), shapes must
be static (XLA compiles one program per shape), and the training pipeline drops its last partial
batch (``drop_remainder``). Validation keeps every batch but uses a multiple of the device count of
its samples (of the batch size on a pod), with a log line when that leaves some out.

A **pod slice** is one worker process per host. Layerloom's launcher (``backends.pod``) sets
``KERAS_DISTRIBUTION_JOB_ADDRESSES`` (the coordinator first), ``KERAS_DISTRIBUTION_NUM_PROCESSES``,
``KERAS_DISTRIBUTION_PROCESS_ID``, ``LAYERLOOM_POD_HOSTS`` (the hosts in process order, for
messages) and ``LAYERLOOM_POD_TIMEOUT``. Before JAX's own initialisation (which aborts the process
when a peer never comes, after 300 s), the processes meet over a plain TCP rendezvous next to the
coordinator's port, so a host that did not come up is named in a ``failed`` event instead. Each
process gets its own shard of every batch (Keras shards the tf.data pipeline), saves its own
checkpoints in its own job folder, and a stop is agreed by all of them (a tiny all-gather every
``batch_event_every`` steps), so no process is left waiting in a collective.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from layerloom.backends.protocol import EventWriter
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.plan import BuildPlan

ADDRESSES = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
NUM_PROCESSES = "KERAS_DISTRIBUTION_NUM_PROCESSES"
PROCESS_ID = "KERAS_DISTRIBUTION_PROCESS_ID"
POD_HOSTS = "LAYERLOOM_POD_HOSTS"
POD_TIMEOUT = "LAYERLOOM_POD_TIMEOUT"
DEFAULT_POD_TIMEOUT = 120  # seconds for every host of a pod to come up (JAX's own default: 300)


def is_jax() -> bool:
    """Whether this process trains on JAX (decided by the environment, before Keras loads)."""
    return os.environ.get("KERAS_BACKEND", "").strip().lower() == "jax"


@dataclass(frozen=True)
class Pod:
    """This process's place in a pod slice, from the environment the launcher set."""

    coordinator: str  # host:port
    num_processes: int
    process_id: int
    hosts: tuple[str, ...]
    timeout: float

    @property
    def rendezvous(self) -> tuple[str, int]:
        host, port = self.coordinator.rsplit(":", 1)
        return host, int(port) + 1

    def host(self, process_id: int) -> str:
        if process_id < len(self.hosts):
            return f"{self.hosts[process_id]} (process {process_id})"
        return f"process {process_id}"


def pod_from_env(env: dict[str, str] | None = None) -> Pod | None:
    env = dict(os.environ if env is None else env)
    count = int(env.get(NUM_PROCESSES, "1") or 1)
    if count <= 1:
        return None
    addresses = [a for a in env.get(ADDRESSES, "").split(",") if a]
    if not addresses:
        raise LayerloomError(f"{NUM_PROCESSES}={count} needs {ADDRESSES} (the coordinator first)")
    return Pod(
        coordinator=addresses[0],
        num_processes=count,
        process_id=int(env.get(PROCESS_ID, "0") or 0),
        hosts=tuple(h for h in env.get(POD_HOSTS, "").split(",") if h),
        timeout=float(env.get(POD_TIMEOUT) or DEFAULT_POD_TIMEOUT),
    )


def _meet_as_coordinator(pod: Pod) -> None:
    deadline = time.monotonic() + pod.timeout
    joined: dict[int, socket.socket] = {}
    with socket.create_server(("", pod.rendezvous[1]), reuse_port=False) as server:
        while len(joined) < pod.num_processes - 1:
            left = deadline - time.monotonic()
            if left <= 0:
                missing = [pod.host(i) for i in range(1, pod.num_processes) if i not in joined]
                for peer in joined.values():
                    peer.close()
                raise LayerloomError(
                    f"pod host {', '.join(missing)} did not come up within {pod.timeout:g} s "
                    f"({POD_TIMEOUT}); check that Layerloom runs there and that port "
                    f"{pod.rendezvous[1]} of this host is reachable from it"
                )
            server.settimeout(min(left, 1.0))
            try:
                peer, _ = server.accept()
                peer.settimeout(5)
                joined[int(peer.recv(16).decode().strip() or -1)] = peer
            except (TimeoutError, ValueError, OSError):
                continue
        for peer in joined.values():
            peer.sendall(b"go\n")
            peer.close()


def _meet_as_peer(pod: Pod) -> None:
    deadline = time.monotonic() + pod.timeout
    while True:
        try:
            with socket.create_connection(pod.rendezvous, timeout=2) as link:
                link.sendall(f"{pod.process_id}\n".encode())
                link.settimeout(max(deadline - time.monotonic(), 1.0))
                if link.recv(8).startswith(b"go"):
                    return
                raise LayerloomError(
                    f"the pod's coordinator, {pod.host(0)}, gave up waiting for the other hosts"
                )
        except (ConnectionRefusedError, TimeoutError, OSError) as error:
            if time.monotonic() > deadline:
                raise LayerloomError(
                    f"pod host {pod.host(0)}, the coordinator at {pod.coordinator}, did not come "
                    f"up within {pod.timeout:g} s ({POD_TIMEOUT}): {error}"
                ) from error
            time.sleep(0.5)


def join_pod(pod: Pod) -> None:
    """Meet every other process of the pod, then start JAX's distributed runtime."""
    import jax

    if pod.process_id == 0:
        _meet_as_coordinator(pod)
    else:
        _meet_as_peer(pod)
    jax.distributed.initialize(
        coordinator_address=pod.coordinator,
        num_processes=pod.num_processes,
        process_id=pod.process_id,
        initialization_timeout=int(pod.timeout),
    )


def device_name(device: Any) -> str:
    return f"{device.platform.upper()}:{device.id} ({device.device_kind})"


def accelerator() -> str:
    import jax

    platform = jax.devices()[0].platform.lower()
    return platform if platform in ("cpu", "tpu") else "gpu"


def choose_distribution(settings: dict[str, Any], writer: EventWriter) -> tuple[Any, list[str]]:
    """``DataParallel`` over every device (of every process of a pod); the devices in words."""
    import jax

    from layerloom.nodes.keras_runtime import load_keras

    keras = load_keras()
    pod = pod_from_env()
    if pod is not None:
        join_pod(pod)
    device = str(settings.get("device", "auto"))
    kind = accelerator()
    if device.startswith("gpu") and kind != "gpu":
        raise LayerloomError(f"device {device} was asked for but JAX sees no GPU here ({kind})")
    if settings.get("mixed_precision"):
        if kind == "cpu":
            writer.log(
                "mixed precision needs a GPU or TPU; training in float32 on the CPU", "warning"
            )
        else:
            keras.mixed_precision.set_global_policy(
                "mixed_bfloat16" if kind == "tpu" else "mixed_float16"
            )
    distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    return distribution, [device_name(d) for d in jax.devices()]


def check_rules(settings: dict[str, Any], plan: BuildPlan, device_count: int) -> None:
    """The rules of data parallelism under XLA, each broken one named with its setting."""
    batch = int(settings["batch_size"])
    if batch % device_count:
        lower = max(device_count, batch - batch % device_count)
        raise LayerloomError(
            f"batch_size {batch} is not a multiple of the {device_count} devices the JAX backend "
            f"trains on (DataParallel gives each device an equal slice of every batch): set "
            f"batch_size to {lower} or {lower + device_count}"
        )
    for spec in plan.inputs:
        if any(size is None for size in spec.shape):
            shown = ", ".join("None" if s is None else str(s) for s in spec.shape)
            raise LayerloomError(
                f"Input {spec.name!r} has a dynamic shape ({shown}): the JAX backend compiles "
                "static shapes for its devices; give every dimension of the Input node a size"
            )


def check_steps(data: Any) -> None:
    if data.steps_per_epoch < 1:
        raise LayerloomError(
            f"batch_size {data.batch_size} is larger than the {data.num_train} training samples: "
            "the JAX backend drops a last partial batch (drop_remainder), so no batch is left; "
            f"set batch_size to at most {data.num_train}"
        )


def pipeline_options(settings: dict[str, Any], device_count: int) -> dict[str, Any]:
    """How the tf.data pipelines must batch for DataParallel (``make_pipelines`` arguments)."""
    import jax

    single = jax.process_count() == 1
    return {
        "drop_remainder": True,
        "eval_multiple": device_count if single else int(settings["batch_size"]),
    }


def stop_agreement() -> Any | None:
    """On a pod: a function every process calls at the same steps, True when any asks to stop."""
    import jax

    if jax.process_count() == 1:
        return None
    import numpy as np
    from jax.experimental import multihost_utils

    def agree(requested: bool) -> bool:
        return bool(np.asarray(multihost_utils.process_allgather(np.int32(requested))).any())

    return agree
