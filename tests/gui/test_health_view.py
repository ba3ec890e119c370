"""The Health tab and the canvas's health colouring, on a real recorded run: a model whose exp node
overflows on one training row diverges; selecting the run shows its figures over the steps, the
line naming where it became non-finite, and the canvas marks that node and colours the others by
the chosen figure. Rendered to PNG (``png_dir``) to be looked at."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from layerloom.nodes.datasets import open_source
from tests.backends.test_health import chain, make_project, regression_data, train
from tests.gui.helpers import png_dir

pytestmark = pytest.mark.keras


@pytest.fixture
def diverged_project(tmp_path: Path, registry, keras_session) -> Path:
    data = regression_data(tmp_path / "d.npz", count=512)
    graph = chain(
        registry,
        ("Dense", "hidden", {"units": 8, "activation": "relu"}),
        ("Dense", "blowup", {"units": 4, "activation": "exponential"}),
        ("Dense", "value", {"units": 1}),
    )
    path = make_project(tmp_path, "diverges", graph, data)
    spec = {"kind": "npz", "path": str(data), "task": "regression"}
    row = int(open_source(spec).split_indices()["train"][-1])
    arrays = dict(np.load(data))
    arrays["x"][row] = 1e4
    np.savez(data, **arrays)
    status, _, _ = train(path, epochs=3, health_every=1)
    assert status == "diverged"
    return path


def test_the_health_tab_plots_marks_and_colours(make_window, qtbot, diverged_project) -> None:
    from layerloom.app.gui.document import Document
    from layerloom.app.gui.health_overlay import health_overlay

    document = Document.open(diverged_project)
    window, _ = make_window(document)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    panel = window.training
    window.show_training()
    panel._on_runs_selected([1])
    panel.tabs.setCurrentWidget(panel.health)
    view = panel.health
    assert not view.diverged.isHidden()
    assert "the output of blowup" in view.diverged.text()
    assert list(view.series) == ["hidden", "blowup", "value"]
    overlay = health_overlay(document)
    assert overlay.diverged == "blowup" and overlay.figure == "grad_norm"
    items = {item.name: item for item in window.view.scene().nodes.values()}
    assert items["blowup"].health.diverged and "NaN" not in items["hidden"].health.label
    coloured = [name for name, item in items.items() if item.health.color is not None]
    assert {"hidden", "value"} <= set(coloured)
    assert "non-finite" in items["blowup"].toolTip()

    view.figure.setCurrentIndex(view.figure.findData("activation_std"))
    assert overlay.figure == "activation_std"
    window.view.auto_layout()  # the test graph's nodes were all placed at the origin
    qtbot.wait(50)
    folder = png_dir()
    window.view.grab().save(str(folder / "health_canvas.png"))
    view.setParent(None)  # a screenshot at a readable size, out of the dock
    view.resize(960, 380)
    view.show()
    qtbot.wait(50)
    view.grab().save(str(folder / "health_tab.png"))
    view.colour_nodes.setChecked(False)
    assert overlay.figure is None and items["hidden"].health.color is None
    assert items["blowup"].health.diverged  # the mark stays without a figure


def test_live_health_events_feed_the_plot_and_the_canvas(qtbot) -> None:
    """While a run trains, ``health`` events go straight to the view (no project read)."""
    from layerloom.app.gui.health_overlay import HealthOverlay
    from layerloom.app.gui.training.health_view import HealthView

    view = HealthView()
    qtbot.addWidget(view)
    overlay = HealthOverlay()
    view.set_overlay(overlay)
    nodes = {"conv": {"grad_norm": 0.5, "dead_fraction": 0.2}, "head": {"grad_norm": 0.05}}
    for step in (1, 11, 21):
        view.add_event({"type": "health", "epoch": 1, "global_step": step, "nodes": nodes})
    assert [s for s, _ in view.series["conv"]] == [1, 11, 21]
    marks = overlay.marks()
    assert set(marks) == {"conv", "head"} and marks["conv"].label == "0.5"
    view.figure.setCurrentIndex(view.figure.findData("dead_fraction"))
    assert set(overlay.marks()) == {"conv"} and overlay.marks()["conv"].label == "20 %"
    broken = {"node": "head", "where": "gradient", "step": 22, "rows": [4]}
    view.add_event({"type": "finished", "status": "diverged", "nonfinite": broken})
    assert overlay.diverged == "head" and overlay.marks()["head"].label == "NaN"
    assert "the gradient of head at step 22 (row 4 of the batch)" in view.diverged.text()
