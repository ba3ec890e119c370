"""Image folders: listing without decoding, decoding in the pipeline, resizing, and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layerloom.nodes.datasets import DatasetError, make_pipelines, open_source
from tests.nodes.datasets.plans import dense_plan, template_plan


def write_pngs(tf, root, counts: dict[str, int], size=(20, 24), channels=3) -> None:
    """PNGs of varying size per class (never 28x28, so the pipeline has to resize)."""
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            shape = (size[0] + i % 3, size[1], channels)
            pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
            (root / name / f"img_{i:03d}.png").write_bytes(tf.io.encode_png(pixels).numpy())


@pytest.fixture
def folder(tmp_path, keras_session):
    import tensorflow as tf

    root = tmp_path / "photos"
    write_pngs(tf, root, {name: 20 for name in CLASSES})  # 200 images, 10 classes
    return root


CLASSES = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay"]


def spec(path, **extra):
    return {"kind": "images", "path": str(path), **extra}


def test_listing_preview_fingerprint_and_check_do_not_decode(folder, monkeypatch) -> None:
    import tensorflow as tf

    calls = []
    real = tf.io.decode_image
    monkeypatch.setattr(tf.io, "decode_image", lambda *a, **k: calls.append(1) or real(*a, **k))
    source = open_source(spec(folder))
    assert source.count() == 200
    preview = source.preview(rows=3)
    assert preview.classes == {name: 20 for name in CLASSES}
    assert preview.rows[0][:2] == ["ant/img_000.png", "ant"]
    assert len(source.fingerprint()) == 64
    source.check(template_plan("small_cnn"))  # reads headers in pure Python, no TensorFlow
    assert calls == []
    make_pipelines(source, template_plan("small_cnn"), batch_size=8, seed=0)
    # The first three files of each class, decoded up front; then one trace per split's map.
    assert len(calls) == 30 + 3


def test_check_does_not_import_tensorflow(tmp_path, folder) -> None:
    probe = (
        "import sys\n"
        "from nodes.datasets import open_source\n"
        "from tests.nodes.datasets.plans import template_plan\n"
        f"open_source({{'kind': 'images', 'path': {str(folder)!r}}}).check("
        "template_plan('small_cnn'))\n"
        "print('TF', 'tensorflow' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "TF False", result.stderr


def test_200_pngs_stream_through_the_small_cnn_pipeline(folder) -> None:
    plan = template_plan("small_cnn")  # Input (28, 28, 1) float32, Dense(10)
    pipes = make_pipelines(open_source(spec(folder)), plan, batch_size=16, seed=0)
    assert (pipes.num_train, pipes.num_validation, pipes.num_test) == (140, 40, 20)
    assert pipes.class_names == CLASSES and pipes.task == "classification"
    seen = 0
    for x, y in pipes.train:
        assert x.shape[1:] == (28, 28, 1) and x.dtype.name == "float32"
        assert y.dtype.name == "int32"
        seen += int(x.shape[0])
    assert seen == 140
    assert float(np.max(x.numpy())) > 1.0  # still 0..255: rescaling is a layer in the graph


def test_decoding_happens_in_the_pipeline(folder) -> None:
    """A file broken after check() (every header is read there) fails when the pipeline reads it."""
    import tensorflow as tf

    source = open_source(spec(folder, split={"validation": 0, "test": 0}))
    plan = dense_plan(("image", [28, 28, 3]), units=10)
    source.check(plan)
    (folder / "cat" / "img_010.png").write_bytes(b"not a png at all")
    pipes = make_pipelines(source, plan, batch_size=200, seed=0)
    with pytest.raises(tf.errors.InvalidArgumentError):
        next(iter(pipes.train))


def test_fingerprint_changes_when_a_file_changes(folder) -> None:
    before = open_source(spec(folder)).fingerprint()
    assert open_source(spec(folder)).fingerprint() == before
    target = folder / "dog" / "img_001.png"
    os.utime(target, ns=(1, 1))
    assert open_source(spec(folder)).fingerprint() != before


def test_unreadable_image_is_named(folder) -> None:
    plan = dense_plan(("image", [28, 28, 3]), units=10)
    (folder / "dog" / "img_000.png").write_bytes(b"\x89PNG but broken")
    with pytest.raises(DatasetError, match=r"^photos/dog/img_000.png is not a readable image"):
        open_source(spec(folder)).check(plan)
    whole = (folder / "eel" / "img_001.png").read_bytes()
    (folder / "dog" / "img_000.png").write_bytes(whole)
    (folder / "eel" / "img_001.png").write_bytes(whole[: len(whole) // 2])  # cut short
    with pytest.raises(DatasetError, match=r"^photos/eel/img_001.png is not a readable image"):
        open_source(spec(folder)).check(plan)
    (folder / "eel" / "img_001.png").write_bytes(whole)
    (folder / "fox" / "img_002.png").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"^photos/fox/img_002.png is empty \(0 bytes\)"):
        open_source(spec(folder)).check(plan)


def test_folder_errors(tmp_path, folder) -> None:
    (folder / "kea").mkdir()
    with pytest.raises(DatasetError, match=r"^photos/kea has no images \(.bmp"):
        open_source(spec(folder)).count()
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="^flat has no class folders"):
        open_source(spec(tmp_path / "flat")).count()


def test_shape_and_class_count_must_fit(folder) -> None:
    source = open_source(spec(folder))
    with pytest.raises(DatasetError, match=r"photos holds images but Input 'x' expects \(784,\)"):
        source.check(dense_plan(("x", [784])))
    with pytest.raises(DatasetError, match=r"photos has 10 classes \(ant, bee, .*\) but output"):
        source.check(dense_plan(("image", [28, 28, 1]), units=3))


def test_jpeg_among_pngs_streams_and_headers_are_recognised(folder) -> None:
    import tensorflow as tf

    from layerloom.nodes.datasets.image_headers import image_format

    pixels = np.random.default_rng(0).integers(0, 256, size=(40, 30, 3), dtype=np.uint8)
    jpeg = tf.io.encode_jpeg(pixels).numpy()
    (folder / "ant" / "img_000.png").unlink()
    (folder / "ant" / "big.JPG").write_bytes(jpeg)
    assert image_format(jpeg) == "JPEG" and image_format(jpeg[: len(jpeg) // 2]) is None
    assert image_format(b"GIF89a" + b"\x00" * 20 + b";") == "GIF"
    source = open_source(spec(folder, split={"validation": 0, "test": 0}))
    pipes = make_pipelines(source, template_plan("small_cnn"), batch_size=200, seed=0)
    x, _ = next(iter(pipes.train))
    assert x.shape == (200, 28, 28, 1)
