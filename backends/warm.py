"""A warm worker: a worker process started before its job, TensorFlow and Keras already imported.

Importing TensorFlow costs 5–13 s, and a GUI user pays it on every Train/Evaluate/Predict/Inspect/
Explain click. ``WARM_POOL`` keeps one worker started ahead (``python -m layerloom.backends.worker
--warm FOLDER/job.json --device DEVICE``): it makes its job folder, imports Keras, writes ``ready``
there and waits for one line on its stdin. ``LocalBackend.start`` hands it the next job whose
settings match how it was started: it writes ``job.json`` into that folder and sends the line;
from then on the process is that job's worker exactly as a cold one (same folder, events, ``pid``
and ``exit`` files, signals). A fresh warm worker starts in the background for the next job once
that job's process ends (or ``REFILL_DELAY_S`` later, for a long job).

Only what is fixed before TensorFlow is imported has to match: the interpreter, the job folders'
root, the device visibility (``worker.select_devices``) and the environment variables TensorFlow,
JAX and Keras read at import (``KERAS_BACKEND``, ``CUDA_VISIBLE_DEVICES``, ...). A job that does
not match starts cold, as before, and the warm worker keeps waiting.

A waiting worker reads its stdin, a pipe from this process: when this process ends, however it
ends (``kill -9`` included), the pipe closes and the worker removes its folder and exits, so no
process is left behind. ``shutdown`` (and ``atexit``) kill the waiting worker and remove its
folder at once. The CLI never starts one: a one-shot
command gains nothing. No TensorFlow here.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from layerloom.backends.protocol import JOB_FILE, WORKER_LOG
from layerloom.nodes.job_folders import make_job_folder

READY_FILE = "ready"  # written by a warm worker once Keras is imported
WARM_PREFIX = "layerloom-run-warm-"  # a JOB_PREFIXES name: stale ones are cleaned like any job's
# Environment variables read when TensorFlow, JAX or Keras is imported (or by the worker before):
# a job whose environment differs in any of these needs a cold worker.
IMPORT_TIME_PREFIXES = ("KERAS_", "TF_", "CUDA_", "JAX_", "XLA_", "LAYERLOOM_", "PYTHON", "OMP_")
SWITCH = "LAYERLOOM_WARM_WORKER"  # "0" turns warm workers off (the test suite does)
# The replacement for a taken worker waits until the job's process ends, or this long: its
# TensorFlow import would otherwise take a core from the job the user is waiting for (an import
# of DenseNet121 went from ~3.7 s to ~5.8 s with it on a 2-core machine). A long job (training)
# still gets its replacement after this delay, for the next click.
REFILL_DELAY_S = 10.0


def import_time_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(IMPORT_TIME_PREFIXES)}


@dataclass(frozen=True)
class WarmKind:
    """Which worker a pool keeps warm: its module (run with ``--warm FOLDER/JOB --device D``), the
    prefix of its job folder, the job file's and the stderr log's names in that folder."""

    module: str = "layerloom.backends.worker"
    prefix: str = WARM_PREFIX
    job_file: str = JOB_FILE
    log: str = WORKER_LOG


@dataclass(frozen=True)
class WarmSpec:
    """How a warm worker was started; a job may use it only when its own spec is equal."""

    python: str
    root: str
    device: str
    env: tuple[tuple[str, str], ...]  # import_time_env, sorted

    @classmethod
    def of(cls, python: str, root: Path, device: str, env: Mapping[str, str] | None) -> WarmSpec:
        effective = import_time_env(os.environ if env is None else env)
        return cls(python, str(root), device, tuple(sorted(effective.items())))


class WarmWorker:
    """One started, waiting worker process and its job folder."""

    def __init__(
        self, spec: WarmSpec, env: Mapping[str, str] | None, kind: WarmKind | None = None
    ) -> None:
        kind = kind or WarmKind()
        self.spec = spec
        self.folder = make_job_folder(kind.prefix, spec.root)
        environment = dict(os.environ if env is None else env)
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        environment["PYTHONUNBUFFERED"] = "1"
        command = [
            spec.python,
            "-m",
            kind.module,
            "--warm",
            str(self.folder / kind.job_file),
            "--device",
            spec.device,
        ]
        with open(self.folder / kind.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=environment,
                start_new_session=True,  # as a cold worker: stop/kill reach its process group
            )

    @property
    def ready(self) -> bool:
        return (self.folder / READY_FILE).exists()

    def alive(self) -> bool:
        return self.process.poll() is None

    def hand_over(self) -> subprocess.Popen:
        """Tell the worker its job is in its folder; the process is the job's from now on."""
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"go\n")
        stdin.close()  # the worker reads one line only
        return self.process

    def discard(self) -> None:
        """End the waiting worker at once (it holds nothing yet: no job, no checkpoint) and
        remove its folder. Quitting the GUI must not wait for a TensorFlow import to finish."""
        with contextlib.suppress(OSError, ValueError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class WarmPool:
    """At most one warm worker, for one spec; thread-safe. ``start`` turns it on, ``take`` hands
    out the worker (and starts its replacement), ``shutdown`` turns it off."""

    def __init__(self, kind: WarmKind | None = None) -> None:
        self.kind = kind or WarmKind()
        self._lock = threading.Lock()
        self._worker: WarmWorker | None = None
        self._spec: WarmSpec | None = None
        self._env: Mapping[str, str] | None = None
        self._starter: threading.Thread | None = None
        self._stopped = threading.Event()  # set by shutdown: a delayed refill stops waiting
        self._atexit = False

    @property
    def enabled(self) -> bool:
        return self._spec is not None

    def start(
        self,
        python: str | None = None,
        root: str | Path | None = None,
        device: str = "auto",
        env: Mapping[str, str] | None = None,
        wait: bool = False,
    ) -> None:
        """Keep a warm worker for jobs of this spec (started in the background; ``wait`` waits
        for the process to exist, not for it to be ready). Another spec replaces the old one."""
        import tempfile

        spec = WarmSpec.of(
            python or sys.executable, Path(root or tempfile.gettempdir()), device, env
        )
        with self._lock:
            if spec == self._spec:
                old = None
            else:
                old, self._worker = self._worker, None
                self._spec, self._env = spec, (None if env is None else dict(env))
            if not self._atexit:
                atexit.register(self.shutdown)
                self._atexit = True
            self._stopped.clear()
        if old is not None:
            old.discard()
        self._refill(wait)

    def _refill(self, wait: bool, after: subprocess.Popen | None = None) -> None:
        def fill() -> None:
            if after is not None:
                deadline = time.monotonic() + REFILL_DELAY_S
                while after.poll() is None and time.monotonic() < deadline:
                    if self._stopped.wait(0.05):
                        return
            with self._lock:
                spec, env = self._spec, self._env
                if spec is None or (self._worker is not None and self._worker.alive()):
                    return
                stale, self._worker = self._worker, None
            if stale is not None:
                stale.discard()
            worker = WarmWorker(spec, env, self.kind)
            with self._lock:
                if self._spec == spec and self._worker is None:
                    self._worker, worker = worker, None
            if worker is not None:  # shut down or re-specified meanwhile
                worker.discard()

        starter = threading.Thread(target=fill, name="layerloom-warm-worker", daemon=True)
        self._starter = starter
        starter.start()
        if wait:
            starter.join()

    def take(
        self, python: str, root: Path, device: str, env: Mapping[str, str] | None
    ) -> WarmWorker | None:
        """The warm worker when it suits a job of this spec (None: start the job cold); a fresh
        one starts in the background for the next job."""
        spec = WarmSpec.of(python, root, device, env)
        with self._lock:
            worker = self._worker
            if worker is None or spec != self._spec or not worker.alive():
                return None
            self._worker = None
        self._refill(wait=False, after=worker.process)
        return worker

    def current(self) -> WarmWorker | None:
        """The waiting worker, if one has started (tests and the bench look at it)."""
        with self._lock:
            return self._worker

    def shutdown(self) -> None:
        """No more warm workers; the waiting one ends and its folder goes."""
        with self._lock:
            worker, self._worker = self._worker, None
            self._spec = self._env = None
            starter = self._starter
            self._stopped.set()
        if starter is not None:
            starter.join(timeout=10)
        with self._lock:
            late, self._worker = self._worker, None
        for each in (worker, late):
            if each is not None:
                each.discard()


WARM_POOL = WarmPool()


def warm_workers_wanted() -> bool:
    return os.environ.get(SWITCH, "1") != "0"
