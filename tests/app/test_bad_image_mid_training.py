"""An image that looks whole when the dataset is set (its signature and end are intact) but
cannot be decoded is met only while training: the run names the file, keeps its state so far
(resumable) and, once the file is fixed, continues with --resume."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layerloom.app.workbench import create_project, open_project

LAYERLOOM = Path(sys.executable).parent / "layerloom"
pytestmark = pytest.mark.keras


def write_png(path: Path, seed: int, keras_session) -> bytes:
    import tensorflow as tf

    pixels = np.random.default_rng(seed).integers(0, 256, (28, 28, 1), dtype=np.uint8)
    data = tf.io.encode_png(pixels).numpy()
    path.write_bytes(data)
    return data


def corrupt_inside(path: Path) -> None:
    """Garbage in the compressed pixels; the PNG signature, IHDR and IEND stay as they were."""
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [str(LAYERLOOM), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_file_that_fails_to_decode_mid_training_is_named_and_the_run_resumes(
    tmp_path, keras_session
) -> None:
    folder = tmp_path / "shapes"
    for label in ("circles", "squares"):
        (folder / label).mkdir(parents=True)
        for index in range(8):
            write_png(folder / label / f"{index:02d}.png", index + 10 * len(label), keras_session)
    project = tmp_path / "images.loom"
    with create_project(project, "small_cnn") as opened:
        head = next(n for n in opened.graph.nodes() if n.name == "classes")
        opened.graph.set_params(head.id, {**head.params, "units": 2})
        opened.save("two classes")
    assert run("data", str(project), "--images", str(folder), cwd=tmp_path).returncode == 0
    broken = folder / "squares" / "06.png"  # past the few files decoded up front
    original = broken.read_bytes()
    corrupt_inside(broken)

    failed = run("train", str(project), "--epochs", "2", "--batch-size", "2", cwd=tmp_path)
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert "shapes/squares/06.png cannot be decoded" in last and "--resume 1" in last
    assert "Traceback" not in failed.stderr
    with open_project(project) as opened:
        from layerloom.app.workbench.training import runs

        (summary,) = runs(opened)
        assert summary.status == "failed"
        stored = opened.project.conn.execute(
            "SELECT COUNT(*) FROM checkpoints WHERE run_id = 1 AND kind = 'last'"
        ).fetchone()[0]
    assert stored == 1  # the state so far was kept: the run can continue

    broken.write_bytes(original)
    resumed = run("train", str(project), "--resume", "1", "--epochs", "2", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
