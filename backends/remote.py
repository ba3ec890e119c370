"""The remote backend: the same worker on another machine over SSH, detached from the connection.

A job lives in ``WORKDIR/jobs/<job id>/`` on the host (the layout of ``backends.protocol``). It is
started in its own session with ``setsid nohup``, its output redirected, so a dropped connection,
a closed laptop or a killed CLI does not stop it. Its events are read by streaming
``events.jsonl`` (``tail -F``) over SSH; when the connection drops, the reader reconnects and
resumes from the last sequence number it has, so no event is lost and none is seen twice.
Checkpoints are fetched as the events announce them. Datasets are uploaded once per content
fingerprint to ``WORKDIR/data/<fingerprint>/``; a second run sends nothing.
"""

from __future__ import annotations

import io
import json
import os
import select
import shlex
import subprocess
import tarfile
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from layerloom.backends.base import BackendInfo, JobState
from layerloom.backends.pod import start_pod
from layerloom.backends.protocol import (
    EVENT_LOG,
    EXIT_FILE,
    JOB_FILE,
    PID_FILE,
    TRAINING_EVENTS,
    WORKER_LOG,
    Event,
    Job,
)
from layerloom.backends.remotes import Remote, get_remote
from layerloom.backends.ssh import SSH, SSHError
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.events import EventBuffer, FollowsBuffer, events_after

RECONNECT_SECONDS = (0.5, 1, 2, 5, 10)  # waits between tries after a dropped connection
ENDED_CHECK_SECONDS = 5.0  # how often a quiet stream asks whether the job still runs


def _tar(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _tar_path(path: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(path, arcname=path.name)
    return buffer.getvalue()


class RemoteBackend:
    """Jobs on one remote host (a ``Remote``: an ssh alias or user@host, and its settings)."""

    def __init__(self, remote: Remote | str, *, remote_data: str | None = None) -> None:
        self.remote = get_remote(remote) if isinstance(remote, str) else remote
        self.name = self.remote.backend_name
        self.ssh = SSH(self.remote.target)
        self.remote_data = remote_data  # a dataset already on the host, used as it is
        self.uploads: list[str] = []  # what the last start sent (for the user, and tests)

    # -- where things are on the host -------------------------------------------------------------

    @property
    def workdir(self) -> str:
        return self.remote.workdir

    def _home_relative(self, path: str) -> str:
        """A path for a remote shell: ``~/x`` becomes ``"$HOME"/x`` (quoted, still expanded)."""
        if path == "~" or path.startswith("~/"):
            return '"$HOME"' + shlex.quote(path[1:]) if len(path) > 1 else '"$HOME"'
        return shlex.quote(path)

    @property
    def python(self) -> str:
        return self.remote.python or f"{self.workdir}/venv/bin/python"

    def job_dir(self, job_id: str) -> str:
        return f"{self.workdir}/jobs/{job_id}"

    # -- the protocol --------------------------------------------------------------------------------

    def info(self) -> BackendInfo:
        return BackendInfo(
            name=self.name,
            host=self.remote.target.describe(),
            keras_backends=("tensorflow", "jax"),
        )

    def check(self) -> None:
        """The host answers, its key is trusted, and its Python runs Layerloom."""
        self.probe()

    def probe(self) -> dict[str, Any]:
        """What the host's runtime has (``backends.probe``: versions, Keras backends, devices);
        LayerloomError, saying what to do, when its Python cannot run Layerloom."""
        python = self._home_relative(self.python)
        line = f"{self.env_assignments()} {python} -m layerloom.backends.probe"
        done = self.ssh.run(line, timeout=120)
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
            raise LayerloomError(
                f"{self.remote.name}: {self.python} cannot run Layerloom (run `layerloom remote "
                f"setup {self.remote.name}` or set its --python): {said[-1]}"
            )
        return json.loads(done.stdout.decode("utf-8"))

    def start(self, job: Job, files: Mapping[str, bytes] | None = None) -> RemoteRun:
        if self.remote.hosts:  # a TPU pod slice: one worker per host (backends.pod)
            return start_pod(self, job, files)
        job_id = f"{job.kind}-{job.run_id}-{uuid.uuid4().hex[:8]}"
        folder = self.job_dir(job_id)
        self.uploads = []
        job.dataset = self._place_dataset(job)
        job.job_dir = folder
        job.base_dir = None
        payload = {JOB_FILE: json.dumps(job.to_json(), indent=1).encode("utf-8"), **(files or {})}
        quoted = self._home_relative(folder)
        self.ssh.check(f"mkdir -p {quoted} && tar -xf - -C {quoted}", input=_tar(payload))
        self.uploads.append(f"job {job_id}")
        self._launch(folder)
        return RemoteRun(self, job_id)

    def env_assignments(self, **extra: str) -> str:
        """``K=V ...`` for a command on the host: the remote's own environment, then ``extra``."""
        env = {**extra, **self.remote.env}
        return " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())

    def _launch(self, folder: str) -> None:
        assignments = self.env_assignments(
            TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", **self._keras_env()
        )
        quoted = self._home_relative(folder)
        python = self._home_relative(self.python)
        # Its own session, stdin/stdout/stderr away from the connection: it outlives the SSH
        # session (a background job holding the session's output would keep it open instead).
        # `&` ends the whole AND-list before it: the cd is its own command, so the shell that
        # waits is never the worker's parent holding the session open.
        line = (
            f"cd {quoted} || exit 1; {assignments} setsid nohup {python} -m layerloom.backends.worker"
            f" {quoted}/{JOB_FILE} < /dev/null > /dev/null 2>> {quoted}/{WORKER_LOG} &"
        )
        self.ssh.check(line)

    def _keras_env(self) -> dict[str, str]:
        backend = self.remote.keras_backend
        if backend == "auto":
            backend = "jax" if self.remote.accelerator == "tpu" else "tensorflow"
        return {"KERAS_BACKEND": backend}

    def _place_dataset(self, job: Job) -> dict[str, Any]:
        """The job's dataset spec as the host sees it: uploaded once per fingerprint."""
        spec = dict(job.dataset)
        if "path" not in spec:
            return spec  # a built-in sample: generated where it trains
        if self.remote_data:
            return {**spec, "path": self.remote_data}
        local = Path(spec["path"])
        if not local.is_absolute() and job.base_dir:
            local = Path(job.base_dir) / local
        fingerprint = job.dataset_fingerprint or uuid.uuid4().hex
        folder = f"{self.workdir}/data/{fingerprint}"
        remote_path = str(PurePosixPath(folder) / local.name)
        quoted = self._home_relative(folder)
        present = self.ssh.run(f"test -f {quoted}/.complete")
        if present.returncode != 0:
            archive = _tar_path(local)
            self.ssh.check(
                f"rm -rf {quoted} && mkdir -p {quoted} && tar -xf - -C {quoted}"
                f" && touch {quoted}/.complete",
                input=archive,
                timeout=3600,
            )
            self.uploads.append(f"data {local.name} ({len(archive)} bytes)")
        return {**spec, "path": self._absolute(remote_path)}

    def _absolute(self, path: str) -> str:
        """``~/x`` as the host's absolute path (the worker does not expand ``~``)."""
        if not path.startswith("~"):
            return path
        home = self.ssh.check('printf %s "$HOME"').decode("utf-8")
        return home + path[1:]

    def attach(self, job_id: str) -> RemoteRun:
        folder = self._home_relative(self.job_dir(job_id))
        if self.ssh.run(f"test -f {folder}/{JOB_FILE}").returncode != 0:
            raise LayerloomError(f"no job {job_id} on {self.remote.name} (its folder is gone)")
        return RemoteRun(self, job_id)

    def state(self, job_id: str | None) -> JobState:
        if not job_id:
            return JobState.ENDED
        folder = self._home_relative(self.job_dir(job_id))
        line = (
            f"if [ -f {folder}/{EXIT_FILE} ] || [ ! -f {folder}/{PID_FILE} ]; then echo ended;"
            f' elif kill -0 "$(cat {folder}/{PID_FILE})" 2>/dev/null; then echo running;'
            " else echo ended; fi"
        )
        try:
            answer = self.ssh.check(line, timeout=30).decode().strip()
        except SSHError:
            return JobState.UNKNOWN
        return JobState.RUNNING if answer == "running" else JobState.ENDED


class RemoteRun(FollowsBuffer):
    """A job on a remote host: its event log streamed over SSH, reconnecting as needed."""

    def __init__(self, backend: RemoteBackend, job_id: str) -> None:
        self.backend = backend
        self.job_id = job_id
        self.folder = backend.job_dir(job_id)
        self.buffer = EventBuffer()
        self.connection_drops = 0  # how often the stream had to reconnect
        self._offset = 0  # bytes of events.jsonl consumed (complete lines only)
        self._detached = threading.Event()
        self._tail: subprocess.Popen[bytes] | None = None
        self._reader = threading.Thread(target=self._follow, name="layerloom-remote", daemon=True)
        self._reader.start()

    # -- reading the event log ------------------------------------------------------------------

    def _follow(self) -> None:
        tries = 0
        while not self._detached.is_set() and not self.buffer.ended:
            if self._stream_once():
                tries = 0
                continue
            if self.buffer.ended or self._detached.is_set():
                break
            self.connection_drops += 1
            state = self.backend.state(self.job_id)
            if state is JobState.ENDED and not self._catch_up():
                self._give_up("the training process on the host ended without reporting a result")
                return
            self._detached.wait(RECONNECT_SECONDS[min(tries, len(RECONNECT_SECONDS) - 1)])
            tries += 1

    def _stream_once(self) -> bool:
        """Follow the log until the terminal event (True), or until the stream breaks or the
        job is found to have ended without one (False)."""
        folder = self.backend._home_relative(self.folder)
        try:
            self._tail = self.backend.ssh.popen(
                f"tail -s 0.1 -c +{self._offset + 1} -F {folder}/{EVENT_LOG} 2>/dev/null"
            )
        except SSHError:
            return False
        tail = self._tail
        assert tail.stdout is not None
        pending = b""
        while not self._detached.is_set():
            ready, _, _ = select.select([tail.stdout], [], [], ENDED_CHECK_SECONDS)
            if not ready:  # quiet: a job that died without its terminal event writes nothing
                if self.backend.state(self.job_id) is JobState.ENDED:
                    break
                continue
            chunk = os.read(tail.stdout.fileno(), 65536)
            if not chunk:
                break  # the connection dropped (or tail ended)
            pending += chunk
            complete = pending[: pending.rfind(b"\n") + 1]
            pending = pending[len(complete) :]
            self._offset += len(complete)
            self._add(events_after(complete, self.buffer.last_seq, TRAINING_EVENTS))
            if self.buffer.ended:
                break
        self._stop_tail()
        return self.buffer.ended

    def _catch_up(self) -> bool:
        """Read what is left of the log in one go (the job ended); True when it was complete."""
        try:
            data = self.fetch(EVENT_LOG)
        except LayerloomError:
            return False
        self._add(events_after(data, self.buffer.last_seq, TRAINING_EVENTS))
        return self.buffer.ended

    def _add(self, events: list[Event]) -> None:
        for event in events:
            self.buffer.add(event)
            if TRAINING_EVENTS.is_terminal(event):
                self.buffer.end()
                return

    def _give_up(self, reason: str) -> None:
        self.buffer.add(
            TRAINING_EVENTS.make(self.buffer.last_seq + 1, "failed", reason=reason, detail="")
        )
        self.buffer.end()

    def _stop_tail(self) -> None:
        tail, self._tail = self._tail, None
        if tail is not None and tail.poll() is None:
            tail.kill()
        if tail is not None:
            tail.wait()

    # -- the protocol ----------------------------------------------------------------------------

    def _signal(self, name: str) -> None:
        folder = self.backend._home_relative(self.folder)
        self.backend.ssh.run(
            f'[ -f {folder}/{EXIT_FILE} ] || kill -{name} "$(cat {folder}/{PID_FILE})" 2>/dev/null'
        )

    def stop(self) -> None:
        self._signal("INT")

    def kill(self) -> None:
        self._signal("KILL")

    def state(self) -> JobState:
        return self.backend.state(self.job_id)

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.state() is JobState.RUNNING:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {self.job_id} still runs after {timeout} s")
            time.sleep(1.0)
        try:
            return int(self.fetch(EXIT_FILE).decode().strip())
        except (LayerloomError, ValueError):
            return None

    def fetch(self, name: str) -> bytes:
        if name.startswith("/") or ".." in PurePosixPath(name).parts:
            raise LayerloomError(f"{name!r} is not a file of job {self.job_id}")
        folder = self.backend._home_relative(self.folder)
        return self.backend.ssh.check(f"cat -- {folder}/{shlex.quote(name)}", timeout=600)

    def detach(self) -> None:
        """Stop reading; the job goes on, and ``attach`` finds it again."""
        self._detached.set()
        self._stop_tail()

    def close(self) -> None:
        """Stop reading, end the job if it still runs, and remove its folder on the host."""
        self.detach()
        folder = self.backend._home_relative(self.folder)
        try:
            if self.state() is JobState.RUNNING:
                self.kill()
            self.backend.ssh.run(f"rm -rf {folder}")
        except SSHError:
            pass  # the host went away; its folder is all that is left behind
