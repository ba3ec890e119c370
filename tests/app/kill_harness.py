"""The kill test's trials (issue #15): ``kill -9`` of a saving process, of ``layerloom train`` and
``layerloom export`` or of their worker, at a random moment from a seeded RNG, then the checks that
the project survived. Used by tests/app/test_kill.py (a handful of trials) and bench/kill.py (50+).

Every process is real and every kill is SIGKILL: nothing gets to clean up. The children run with
their own TMPDIR, so the job folders they leave are theirs alone (other tests may run beside).
After each kill, ``next_start`` runs what the next start of the same kind runs before its work
(the local backend's and the export's clean-up, the output folder's check), then ``check`` asserts:
``layerloom info`` exits 0 (the trained project; the save loop's graphs are stand-ins it would
refuse) and ``Project.open`` opens both, ``PRAGMA integrity_check`` is ok, everything committed
before the trial is still there and whole (graph versions match their checksums, the saved
generations their content, checkpoints are non-empty HDF5 weights of an existing run), and no
job or staging folder is left.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from layerloom.app.workbench.export_folder import STAGING, check_output_folder
from layerloom.app.workbench.export_process import clean_stale_export_jobs
from layerloom.backends.local import clean_stale_jobs
from layerloom.exporters.registry import default_exporters
from layerloom.nodes.project import Project
from tests.nodes._save_forever import big_graph

LAYERLOOM = str(Path(sys.executable).parent / "layerloom")
SAVE_FOREVER = str(Path(__file__).parents[1] / "nodes" / "_save_forever.py")
TRAIN_WORKER = "layerloom.backends.worker"
EXPORT_WORKER = "layerloom.exporters.worker"
EXPORT_TARGET = "keras"


@dataclass
class Lab:
    """A folder with the two projects the trials use, and the children's own temp folder."""

    root: Path
    model: Path = field(init=False)  # trained once; train and export trials use it
    saves: Path = field(init=False)  # the save loop's project (its graphs are not trainable)
    temp: Path = field(init=False)
    out: Path = field(init=False)
    generation: int = 0

    def __post_init__(self) -> None:
        self.model = self.root / "model.loom"
        self.saves = self.root / "saves.loom"
        self.temp = self.root / "tmp"
        self.out = self.root / "exported"
        self.temp.mkdir(parents=True, exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "TMPDIR": str(self.temp)}

    def setup(self) -> None:
        """Both projects, and one trained run to export (a real `layerloom train`)."""
        for path, template in ((self.model, "mlp_classifier"), (self.saves, None)):
            argv = [LAYERLOOM, "new", str(path)] + (["--template", template] if template else [])
            subprocess.run(argv, check=True, capture_output=True, env=self.env)
        subprocess.run(
            [LAYERLOOM, "train", str(self.model), "--epochs", "1", "--json"],
            check=True,
            capture_output=True,
            env=self.env,
        )


@dataclass
class Trial:
    kind: str  # save | train-cli | train-worker | export-cli | export-worker
    delay: float  # seconds after the start (the CLI's, or the worker's first sight)
    killed: bool = False  # False: the process had already ended when its moment came
    seconds: float = 0.0


def _processes(needle: str, where: Path) -> list[int]:
    """Live processes whose command line holds both ``needle`` and ``where``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if needle.encode() in cmdline and str(where).encode() in cmdline:
            found.append(int(entry))
    return found


def _kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(needle: str, where: Path, timeout: float = 60.0) -> None:
    """Wait for workers a killed CLI orphaned; SIGKILL any still there after ``timeout``."""
    deadline = time.monotonic() + timeout
    while _processes(needle, where) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in _processes(needle, where):
        _kill(pid)


def _save_trial(lab: Lab, delay: float) -> bool:
    proc = subprocess.Popen(
        [sys.executable, SAVE_FOREVER, str(lab.saves), str(lab.generation)],
        stdout=subprocess.PIPE,
        text=True,
        env=lab.env,
    )
    lab.generation += 1000
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        time.sleep(delay)
        return _kill(proc.pid)
    finally:
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _cli_trial(lab: Lab, argv: list[str], worker: str, delay: float, kill_worker: bool) -> bool:
    """Start the CLI; SIGKILL it ``delay`` s later, or its worker ``delay`` s after it appears."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=lab.env)
    killed = False
    try:
        if not kill_worker:
            time.sleep(delay)
            killed = _kill(proc.pid) and proc.poll() is None
        else:
            pids: list[int] = []
            while not pids and proc.poll() is None:
                pids = _processes(worker, lab.temp)
                time.sleep(0.02)
            if pids:
                time.sleep(delay)
                killed = any([_kill(pid) for pid in _processes(worker, lab.temp)])
        proc.wait(timeout=120)  # a CLI whose worker was killed records that, then exits
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _wait_gone(worker, lab.temp)
    return killed


def run_trial(lab: Lab, trial: Trial) -> None:
    start = time.monotonic()
    if trial.kind == "save":
        trial.killed = _save_trial(lab, trial.delay)
    elif trial.kind.startswith("train"):
        argv = [LAYERLOOM, "train", str(lab.model), "--epochs", "3", "--json"]
        trial.killed = _cli_trial(
            lab, argv, TRAIN_WORKER, trial.delay, trial.kind.endswith("worker")
        )
    else:
        argv = [LAYERLOOM, "export", str(lab.model), "--target", EXPORT_TARGET]
        argv += ["-o", str(lab.out), "--overwrite", "--json"]
        trial.killed = _cli_trial(
            lab, argv, EXPORT_WORKER, trial.delay, trial.kind.endswith("worker")
        )
    trial.seconds = time.monotonic() - start


def next_start(lab: Lab) -> None:
    """What the next train or export runs before its work (LocalBackend.start, new_job_folder,
    prepare_export's folder check), without starting TensorFlow."""
    clean_stale_jobs(lab.temp)
    clean_stale_export_jobs(lab.temp)
    check_output_folder(lab.out, default_exporters()[EXPORT_TARGET], overwrite=True)


Snapshot = dict[str, set]


def snapshot(path: Path) -> Snapshot:
    """What is committed: graph versions (id, sha256), runs, checkpoints (id, weights' sha256),
    exports."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            "graphs": set(conn.execute("SELECT id, sha256 FROM graph_versions")),
            "runs": {row[0] for row in conn.execute("SELECT id FROM runs")},
            "checkpoints": {
                (row[0], hashlib.sha256(row[1] or b"").hexdigest())
                for row in conn.execute("SELECT id, weights FROM checkpoints")
            },
            "exports": {row[0] for row in conn.execute("SELECT id FROM exports")},
        }
    finally:
        conn.close()


def _weights_load(blob: bytes) -> bool:
    """The checkpoint is a whole HDF5 weights file (opened without TensorFlow)."""
    import h5py

    try:
        with h5py.File(io.BytesIO(blob), "r") as weights:
            return len(weights.keys()) > 0
    except (OSError, ValueError):
        return False


def check(lab: Lab, path: Path, before: Snapshot) -> Snapshot:
    """Assert the project survived; its new snapshot."""
    if path == lab.model:  # the save loop's graphs are big stand-ins, not Layerloom graphs
        info = subprocess.run(
            [LAYERLOOM, "info", str(path)], capture_output=True, text=True, env=lab.env
        )
        assert info.returncode == 0, info.stderr
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        for run_id, blob in conn.execute("SELECT run_id, weights FROM checkpoints"):
            assert blob and _weights_load(blob), f"checkpoint of run {run_id} does not load"
    finally:
        conn.close()
    with Project.open(path) as project:  # what the GUI and every writing command open with
        for version in project.graph_versions():
            graph = project.graph(version.id)  # parses and matches its sha256
            if "generation" in graph:
                assert graph == big_graph(graph["generation"])
    after = snapshot(path)
    for key, committed in before.items():
        assert committed <= after[key], f"committed {key} lost: {committed - after[key]}"
    leftovers = [p.name for p in lab.temp.iterdir()]
    leftovers += [p.name for p in lab.root.iterdir() if STAGING in p.name or "replaced" in p.name]
    assert not leftovers, f"left behind after the next start: {leftovers}"
    if lab.out.exists():  # an export is in place whole, or not at all
        assert (lab.out / ".layerloom-export.json").is_file()
    return after


def plan(rng: random.Random, count: int, kinds: tuple[str, ...]) -> list[Trial]:
    """``count`` trials cycling through ``kinds``, each with its seeded random moment."""
    # Up to about each process's life on the 2-core development machine: `train --epochs 3` ~6 s
    # and its worker ~3 s after it shows; `export` ~6 s and its worker ~3 s; a save ~0.05 s.
    limits = {"save": 0.4, "train-cli": 5.0, "export-cli": 5.0}
    trials = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        trials.append(Trial(kind, round(rng.uniform(0.0, limits.get(kind, 2.5)), 3)))
    return trials


def run_all(lab: Lab, trials: list[Trial], report: Callable[[Trial], None] = print) -> None:
    states = {lab.model: snapshot(lab.model), lab.saves: snapshot(lab.saves)}
    for trial in trials:
        run_trial(lab, trial)
        next_start(lab)
        for path in states:
            states[path] = check(lab, path, states[path])
        report(trial)
