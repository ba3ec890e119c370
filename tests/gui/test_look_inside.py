"""Look Inside: previews of every node's output on the canvas, recomputed in a worker when a
parameter changes, a file dropped on the canvas as the sample, and the Explain view. The jobs
run on the in-process backend (the worker's own code on a thread; the CLI tests run the real
child process); the screenshots land in png_dir() to be looked at."""

from __future__ import annotations

import numpy as np
import pytest

from layerloom.app.gui.canvas.preview_item import PreviewItem
from layerloom.app.gui.explain_view import ExplainView
from layerloom.app.gui.look_inside import PreviewControls
from layerloom.app.gui.previews import node_previews
from layerloom.backends.registry import create_backend
from layerloom.nodes.edits import SetParams
from tests.gui.helpers import node_named, png_dir

pytestmark = pytest.mark.keras
WORKER_MS = 120_000


def previews_of(view) -> dict[str, PreviewItem]:
    found = {}
    for item in view.graph_scene.nodes.values():
        for child in item.childItems():
            if isinstance(child, PreviewItem) and child.isVisible():
                found[item.name] = child
    return found


def test_previews_follow_edits_and_dropped_files(qtbot, documents, make_view, tmp_path):
    document = documents("small_cnn", tmp_path / "aperçu.loom")
    view = make_view(document, size=(1700, 420))
    view.fit()
    controls = PreviewControls(document)
    controls.backend = create_backend("inprocess", root=tmp_path / "jobs")
    qtbot.addWidget(controls)
    previews = node_previews(document)
    assert previews_of(view) == {}  # nothing until asked

    controls.show_box.setChecked(True)
    qtbot.waitUntil(lambda: bool(previews.nodes) and not controls.busy, timeout=WORKER_MS)
    shown = previews_of(view)
    names = [node.name for node in document.graph.nodes()]
    assert set(shown) == set(names)
    assert shown["conv_1"].record["preview"]["kind"] == "maps"
    assert shown["conv_1"].record["shape"] == [26, 26, 16]
    assert shown["flatten"].record["preview"]["kind"] == "histogram"
    assert shown["classes"].record["preview"]["kind"] == "topk"
    assert "initial weights" in previews.reason and "#1" in previews.sample
    view.grab().save(str(png_dir() / "look_inside_canvas.png"))
    controls.grab().save(str(png_dir() / "look_inside_controls.png"))

    # A parameter edit is recomputed in the worker (debounced); the canvas never waited for it.
    conv = node_named(document, "conv_1")
    document.push(SetParams(conv.id, {**conv.params, "filters": 8}))
    qtbot.waitUntil(
        lambda: previews.nodes["conv_1"]["shape"] == [26, 26, 8] and not controls.busy,
        timeout=WORKER_MS,
    )
    assert previews_of(view)["conv_1"].record["preview"]["channels"] == 8

    # A file dropped on the canvas becomes the sample.
    rng = np.random.default_rng(0)
    dropped = tmp_path / "chiffre.npz"
    np.savez(dropped, x=rng.uniform(0, 255, (1, 28, 28, 1)).astype("float32"))
    previews.drop_file(str(dropped))
    qtbot.waitUntil(
        lambda: previews.sample == "chiffre.npz" and not controls.busy, timeout=WORKER_MS
    )
    assert controls.sample_label.text() == "file: chiffre.npz"

    controls.show_box.setChecked(False)
    assert previews_of(view) == {}


def test_explain_view_shows_the_heatmap_over_the_image(qtbot, documents, tmp_path):
    document = documents("small_cnn", tmp_path / "pourquoi.loom")
    view = ExplainView(document)
    view.backend = create_backend("inprocess", root=tmp_path / "jobs")
    qtbot.addWidget(view)
    view.resize(700, 360)
    view.show()
    image = np.zeros((2, 28, 28, 1), dtype="float32")
    image[:, 5:12, 14:21] = 255.0
    np.savez(tmp_path / "marque.npz", x=image)
    view.set_files([str(tmp_path / "marque.npz")])
    view.explain()
    qtbot.waitUntil(lambda: view.explanation is not None, timeout=WORKER_MS)
    assert view.rows.count() == 2
    assert view.explanation.method == "grad-cam" and view.explanation.node == "conv_2"
    assert view.picture.pixmap() is not None and not view.picture.pixmap().isNull()
    assert "Grad-CAM over conv_2" in view.status.text()
    view.grab().save(str(png_dir() / "explain_view.png"))
