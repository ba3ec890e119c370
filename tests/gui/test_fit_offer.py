"""The Data tab offers to fit the graph to a dataset that does not fit it (or could fit better):
"Fit the graph" applies every change as one undo step, graph and training settings together."""

from __future__ import annotations

import numpy as np

from layerloom.app.gui.document import Document
from layerloom.app.gui.training.dataset_panel import DatasetPanel
from layerloom.nodes import training
from layerloom.nodes.compile import build_plan
from tests.gui.helpers import png_dir, snapshot


def write_scaled_csv(path):
    """40 rows: a tiny and a huge numeric column, a text column, a text target (2 classes)."""
    rng = np.random.default_rng(0)
    lines = ["tiny,huge,colour,kind"]
    for i in range(40):
        lines.append(
            f"{rng.normal() * 0.001:.6f},{rng.normal() * 4000:.1f},{'rg'[i % 2]},{'ab'[i % 3 > 0]}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_panel(qtbot, document) -> DatasetPanel:
    panel = DatasetPanel(document)
    qtbot.addWidget(panel)
    panel.resize(1100, 420)
    panel.refresh()
    return panel


def test_fit_the_graph_to_a_csv_is_one_undo_step(qtbot, tmp_path):
    document = Document.new(tmp_path / "mlp.loom", "mlp_classifier")
    try:
        data = write_scaled_csv(tmp_path / "scaled.csv")
        panel = make_panel(qtbot, document)
        panel.kind.setCurrentIndex(panel.kind.findData("csv"))
        panel.paths["csv"].setText(str(data))
        panel.load_columns("csv")
        before = snapshot(document)

        assert not panel.use()  # 4 feature columns into a 20-feature Input: refused, offered
        assert document.opened.project.get_setting("dataset") is None
        assert not panel.fit_offer.isHidden()
        lines = panel.fit_offer.lines()
        assert lines[0].startswith("Input 'features': shape (20,) -> (4,)")
        assert any(line.startswith("add Normalization after Input 'features'") for line in lines)
        assert "output 'classes': units 3 -> 2 (2 classes: a, b)" in lines
        assert "“Fit the graph” makes the changes above" in panel.status.text()
        shot = png_dir() / "fit_offer.png"
        panel.grab().save(str(shot))
        assert shot.stat().st_size > 0

        shown = []
        panel.settings_changed.connect(shown.append)
        panel.fit_offer.yes.click()
        assert panel.fit_offer.isHidden()
        assert panel.error is None, panel.error
        assert "Graph fitted" in panel.status.text()
        plan = build_plan(document.graph, document.registry)
        assert plan.inputs[0].shape == [4]
        assert [layer.class_name for layer in plan.layers][0] == "Normalization"
        stored = document.opened.project.get_setting("dataset")
        assert stored["kind"] == "csv" and stored["task"] == "classification"
        settings = training.load(document.opened.project)
        assert settings["loss"] == "sparse_categorical_crossentropy"
        assert shown and shown[-1]["metrics"] == "accuracy"
        assert document.undo_stack.count() == 1

        document.undo_stack.undo()  # one step: the graph and the settings as they were
        assert snapshot(document) == before
        assert training.load(document.opened.project)["loss"] == "auto"
        document.undo_stack.redo()
        assert build_plan(document.graph, document.registry).inputs[0].shape == [4]
    finally:
        document.close()


def test_data_that_fits_is_offered_only_what_makes_it_better(qtbot, tmp_path):
    document = Document.new(tmp_path / "reg.loom", "mlp_regressor")
    try:
        panel = make_panel(qtbot, document)
        panel.kind.setCurrentIndex(panel.kind.findData("sample"))
        sample = panel.names["sample"]
        sample.setCurrentIndex(sample.findData("scaled_regression"))
        assert panel.use(), panel.error
        # Its own sample: the Normalization is there, auto already trains with MSE and MAE.
        assert panel.fit_offer.isHidden()
        assert "warning" not in panel.status.text()
    finally:
        document.close()


def test_the_scale_warning_shows_under_data_that_fits_without_a_normalization(qtbot, tmp_path):
    document = Document.new(tmp_path / "mlp.loom", "mlp_classifier")
    try:
        features = document.graph.by_name("features")
        document.graph.set_params(features.id, {**features.params, "shape": [2]})
        classes = document.graph.by_name("classes")
        document.graph.set_params(classes.id, {**classes.params, "units": 2})
        data = write_scaled_csv(tmp_path / "scaled.csv")
        panel = make_panel(qtbot, document)
        panel.kind.setCurrentIndex(panel.kind.findData("csv"))
        panel.paths["csv"].setText(str(data))
        panel.load_columns("csv")
        panel.fields["csv"]["features"].setText("tiny, huge")
        assert panel.use(), panel.error  # it fits, and is stored
        status = panel.status.text().splitlines()
        assert status[0].startswith("Dataset set. Fits the model: classification, 2 classes")
        assert status[1].startswith("warning: the features differ in scale by ")
        assert "'tiny' up to" in status[1] and "'huge' up to" in status[1]
        # ... and the offer adds the Normalization that the warning asks for.
        assert not panel.fit_offer.isHidden()
        assert any("add Normalization" in line for line in panel.fit_offer.lines())
        panel.grab().save(str(png_dir() / "fit_offer_scale_warning.png"))
        panel.fit_offer.yes.click()
        assert "warning" not in panel.status.text()
    finally:
        document.close()
