"""The Data tab: choose, check and store a project's dataset (no TensorFlow, no real dialogs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerloom.app.gui.document import Document
from layerloom.app.gui.session import untitled_document
from layerloom.app.gui.training.dataset_panel import DatasetPanel
from layerloom.nodes.graph import Edge
from tests.gui.helpers import add_node, png_dir


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def good_rows(count: int = 30) -> list[str]:
    return [f"{k * 0.1:.1f},{k % 5},{'xy'[k % 2]}" for k in range(count)]


@pytest.fixture
def template_document(tmp_path):
    document = Document.new(tmp_path / "mlp.loom", "mlp_classifier")
    yield document
    document.close()


@pytest.fixture
def two_feature_document(tmp_path):
    """A saved project whose model takes 2 features and tells 2 classes apart."""
    document = Document.new(tmp_path / "two.loom")
    source = add_node(document, "keras.Input", "features", shape=(2,))
    output = add_node(document, "keras.layers.Dense", "out", units=2, activation="softmax")
    document.graph.add_node(source)
    document.graph.add_node(output)
    document.graph.connect(Edge(source.id, output.id, "input"))
    yield document
    document.close()


def make_panel(qtbot, document) -> DatasetPanel:
    panel = DatasetPanel(document)
    qtbot.addWidget(panel)
    panel.resize(1100, 360)
    panel.refresh()
    return panel


def choose(panel: DatasetPanel, kind: str) -> None:
    panel.kind.setCurrentIndex(panel.kind.findData(kind))


def test_shows_the_template_sample_and_stores_a_chosen_sample(qtbot, template_document):
    panel = make_panel(qtbot, template_document)
    assert panel.current.text() == "Dataset: the template's sample: tabular_classes"
    assert "sample tabular_classes: 1500 examples" in panel.preview.toPlainText()
    assert panel.error is None
    assert "classification, 3 classes; 1050 train / 300 validation / 150 test" in (
        panel.status.text()
    )

    choose(panel, "sample")
    panel.names["sample"].setCurrentIndex(panel.names["sample"].findData("regression"))
    panel.validation.setValue(0.25)
    panel.seed.setValue(7)
    panel.check()  # whether it fits or not, checking stores nothing
    project = template_document.opened.project
    assert project.get_setting("dataset") is None

    panel.names["sample"].setCurrentIndex(panel.names["sample"].findData("tabular_classes"))
    assert panel.use(), panel.error
    stored = project.get_setting("dataset")
    assert stored["kind"] == "sample" and stored["name"] == "tabular_classes"
    assert stored["split"]["validation"] == 0.25 and stored["split"]["seed"] == 7
    assert "sample tabular_classes" in panel.preview.toPlainText()
    assert panel.current.text().startswith("Dataset: sample tabular_classes")


def test_a_csv_fills_the_target_columns_and_is_stored_relative(
    qtbot, tmp_path, two_feature_document
):
    (tmp_path / "data").mkdir()
    path = write_csv(tmp_path / "data" / "t.csv", good_rows())
    panel = make_panel(qtbot, two_feature_document)
    assert panel.current.text().startswith("No dataset yet")
    choose(panel, "csv")
    asked = []
    panel.ask_path = lambda kind: asked.append(kind) or str(path)
    panel.browse("csv")
    assert asked == ["csv"]
    target = panel.fields["csv"]["target"]
    assert [target.itemText(i) for i in range(target.count())] == ["a", "b", "label"]
    assert target.currentText() == "label"

    assert panel.use(), panel.error
    stored = two_feature_document.opened.project.get_setting("dataset")
    assert stored["kind"] == "csv" and stored["path"] == "data/t.csv"
    assert stored["target"] == "label"
    assert "csv " in panel.preview.toPlainText() and "30 rows" in panel.preview.toPlainText()
    assert "classification, 2 classes" in panel.status.text()

    panel.set_document(two_feature_document)  # shown again: the stored spec fills the form
    panel.refresh()
    assert panel.current.text().startswith("Dataset: csv data/t.csv")
    assert (
        panel.paths["csv"].text() == "data/t.csv"
        and panel.fields["csv"]["target"].currentText() == "label"
    )


def test_bad_csv_is_refused_with_its_row_and_column_and_nothing_is_stored(
    qtbot, tmp_path, two_feature_document
):
    project = two_feature_document.opened.project
    project.set_setting("dataset", {"kind": "sample", "name": "tabular_classes"})
    path = write_csv(tmp_path / "bad.csv", ["1,2,x", "3,oops,y", *good_rows()])
    panel = make_panel(qtbot, two_feature_document)
    choose(panel, "csv")
    panel.ask_path = lambda kind: str(path)
    panel.browse("csv")
    assert not panel.use()
    assert "row 3" in panel.error and "'b'" in panel.error and "oops" in panel.error
    assert "\n" not in panel.error and panel.status.text() == panel.error
    assert project.get_setting("dataset") == {"kind": "sample", "name": "tabular_classes"}

    panel.paths["csv"].setText(str(tmp_path / "missing.csv"))
    assert not panel.check() and panel.error
    choose(panel, "npz")
    assert not panel.use() and panel.error == "choose an .npz file first"
    assert project.get_setting("dataset") == {"kind": "sample", "name": "tabular_classes"}


def test_an_invalid_graph_is_shown_instead_of_a_check(qtbot, tmp_path):
    document = Document.new(tmp_path / "empty.loom")
    try:
        panel = make_panel(qtbot, document)
        choose(panel, "sample")
        assert not panel.use()
        assert panel.error.startswith("Fix the graph")
        assert "sample" in panel.preview.toPlainText()  # the preview still shows
        assert document.opened.project.get_setting("dataset") is None
    finally:
        document.close()


def test_an_untitled_document_must_be_saved_first(qtbot):
    document = untitled_document("mlp_classifier")
    panel = make_panel(qtbot, document)
    assert panel.current.text() == "Dataset: the template's sample: tabular_classes"
    assert panel.check()  # checking needs no project file
    assert not panel.use()
    assert panel.error.startswith("Save the project first")


def test_the_training_panel_has_a_data_tab_and_renders(qtbot, tmp_path, template_document):
    from layerloom.app.gui.training.panel import TrainingPanel

    class NoService:
        def load_settings(self, opened):
            return {}, None

        def runs(self, opened):
            return []

    training = TrainingPanel(template_document, service=NoService())
    qtbot.addWidget(training)
    tabs = [training.tabs.tabText(i) for i in range(training.tabs.count())]
    assert tabs == [
        "Curves", "Evaluation", "Predict", "Health", "Pipeline", "Log", "Data", "Statistics"
    ]  # fmt: skip
    assert training.data.document is template_document

    panel = make_panel(qtbot, template_document)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)
    out = png_dir()
    out.mkdir(exist_ok=True)
    assert panel.grab().save(str(out / "dataset_panel.png"))
