"""File ▸ Import… on the GUI's warm worker (``backends.warm``) gives what a cold worker gives.

Real workers (each imports TensorFlow) and real projects; the pool is process-global, so the test
leaves it shut down.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping

import h5py
import numpy as np
import pytest

from layerloom.app.workbench import open_project
from layerloom.app.workbench.importing import import_model
from layerloom.backends import records
from layerloom.backends.local import LocalBackend, LocalRun
from layerloom.backends.protocol import Job
from layerloom.backends.warm import WARM_POOL
from layerloom.nodes.serialize import graph_to_dict

pytestmark = pytest.mark.keras


class RecordingBackend(LocalBackend):
    """The local backend, remembering its run: did a warm worker take it?"""

    last: LocalRun | None = None

    def start(self, job: Job, files: Mapping[str, bytes] | None = None) -> LocalRun:
        self.last = super().start(job, files)
        return self.last


@pytest.fixture
def pool():
    yield WARM_POOL
    WARM_POOL.shutdown()


def ready_worker(timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = WARM_POOL.current()
        if worker is not None and worker.ready:
            return worker
        time.sleep(0.05)
    raise AssertionError("no warm worker got ready")


def by_name(graph: dict) -> dict:
    """The graph with node ids (fresh random ones on every import) replaced by node names."""
    text = json.dumps(graph, sort_keys=True)
    for node in graph["nodes"]:
        text = text.replace(node["id"], node["name"])
    return json.loads(text)


def imported(path, run_id: int):
    """The project as the import left it: its graph, and the imported run's status and weights."""
    with open_project(path, readonly=True) as opened:
        graph = by_name(graph_to_dict(opened.graph))
        (run,) = records.summaries(opened.project.conn)
        saved = records.checkpoint(opened.project.conn, run_id, "last")
    assert saved is not None and saved["epoch"] == 0
    with h5py.File(io.BytesIO(saved["weights"]), "r") as h5:
        arrays: dict[str, np.ndarray] = {}
        h5.visititems(
            lambda name, item: (
                arrays.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None
            )
        )
    return graph, run.status, arrays


def test_import_on_the_warm_worker_matches_a_cold_import(keras_session, pool, tmp_path) -> None:
    keras = keras_session
    x = keras.Input((6,), name="features")
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(x)
    keras.Model(x, keras.layers.Dense(3, name="scores")(hidden), name="small").save(
        tmp_path / "small model.keras"
    )
    # The warm worker imports TensorFlow while the cold import (another device) runs.
    pool.start(device="cpu")
    cold_backend = RecordingBackend()
    cold = import_model(
        tmp_path / "small model.keras", tmp_path / "kalt.loom", backend=cold_backend
    )
    waiting = ready_worker()
    warm_backend = RecordingBackend()
    warm = import_model(
        tmp_path / "small model.keras", tmp_path / "wärm.loom", backend=warm_backend, device="cpu"
    )
    assert cold_backend.last is not None and not cold_backend.last.warm
    assert warm_backend.last is not None and warm_backend.last.warm
    assert warm_backend.last.pid == waiting.process.pid

    assert warm.lines()[1:] == cold.lines()[1:]  # the first names the project file
    # Three nodes (the input is one), two connections, 53 parameters: both the same.
    sizes = (3, 2, 6 * 5 + 5 + 5 * 3 + 3)
    assert (warm.nodes, warm.edges, warm.params) == (cold.nodes, cold.edges, cold.params) == sizes
    assert warm.placeholders == cold.placeholders == []
    assert warm.max_abs_error is not None and warm.max_abs_error <= 1e-5
    assert warm.run_id is not None and cold.run_id is not None
    warm_graph, warm_status, warm_weights = imported(tmp_path / "wärm.loom", warm.run_id)
    cold_graph, cold_status, cold_weights = imported(tmp_path / "kalt.loom", cold.run_id)
    assert warm_graph == cold_graph and warm_status == cold_status == "imported"
    assert sorted(warm_weights) == sorted(cold_weights) and len(warm_weights) == 4
    for name, array in warm_weights.items():
        np.testing.assert_array_equal(array, cold_weights[name])
