"""The Training panel's Predict tab: files dropped on it are predicted off the GUI thread by the
real orchestrator (a worker job on the in-process backend, real Keras) and shown as a table."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from layerloom.app.gui.training.predict_view import PredictView
from layerloom.app.gui.training.service import TrainingService
from layerloom.app.workbench import open_project
from layerloom.app.workbench.predicting import predict
from layerloom.backends.registry import create_backend
from tests.app.predict_projects import (
    REGRESSION_HEADER,
    image_project,
    regression_project,
    regression_rows,
    train,
    write_csv,
)
from tests.gui.helpers import png_dir

pytestmark = pytest.mark.keras
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def trained(tmp_path_factory, keras_session):
    folder = tmp_path_factory.mktemp("predict-gui")
    images = image_project(folder / "images project")
    train(images, folder / "jobs")
    values = regression_project(folder / "values project")
    train(values, folder / "jobs")
    return images, values, folder


def drop(view: PredictView, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    view.dropEvent(event)


def make_view(qtbot, project, folder, run_id=None) -> PredictView:
    service = TrainingService(backend=create_backend("inprocess", root=folder / "gui-jobs"))
    view = PredictView(service, lambda: (project, run_id))
    qtbot.addWidget(view)
    view.resize(900, 420)
    view.show()
    return view


def table_texts(view: PredictView) -> list[list[str]]:
    table = view.table
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_dropped_images_and_a_folder_are_predicted_with_their_top_classes(trained, qtbot) -> None:
    project, _, folder = trained
    images = project.parent / "images"
    view = make_view(qtbot, project, folder)
    view.top.setValue(2)
    drop(view, [images / "rouge", images / "bleu" / "bleu_03.png"])
    assert view.busy and "Asking the best run about 2 inputs" in view.heading.text()
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT_MS)
    assert view.result is not None, view.heading.text()
    with open_project(project, readonly=True) as opened:
        expected = predict(
            opened,
            [images / "rouge", images / "bleu" / "bleu_03.png"],
            top=2,
            backend=create_backend("inprocess", root=folder / "check-jobs"),
        )
    rows = table_texts(view)
    assert len(rows) == 13 and view.table.columnCount() == 4
    for shown, row in zip(rows, expected.rows, strict=True):
        best, other = row["top"]
        assert shown[0] == row["input"].rsplit("/", 1)[-1]
        assert shown[1] == best["label"] and shown[2] == f"{best['probability']:.1%}"
        assert shown[3] == f"{other['label']} {other['probability']:.1%}"
    assert not view.table.item(0, 0).icon().isNull()  # a thumbnail of the image
    assert view.heading.text().startswith("Run #1: 13 prediction(s)")
    view.grab().save(str(png_dir() / "predict_view_images.png"))


def test_a_regression_shows_values_and_a_bad_file_says_why(trained, qtbot, tmp_path) -> None:
    _, project, folder = trained
    data = write_csv(
        tmp_path / "nouvelles.csv",
        REGRESSION_HEADER[:-1],
        [r[:-1] for r in regression_rows(4, seed=2)],
    )
    view = make_view(qtbot, project, folder, run_id=1)
    assert view.ask([str(data)])
    assert "Asking run #1 about 1 input" in view.heading.text()
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT_MS)
    rows = table_texts(view)
    assert [r[0] for r in rows] == [f"nouvelles.csv:{line}" for line in range(2, 6)]
    assert view.table.columnCount() == 2 and all(float(r[1]) == float(r[1]) for r in rows)
    view.grab().save(str(png_dir() / "predict_view_values.png"))
    notes = tmp_path / "notes.txt"
    notes.write_text("pas une image")
    assert view.ask([str(notes)])
    qtbot.waitUntil(lambda: not view.busy, timeout=TIMEOUT_MS)
    assert "Could not predict: " in view.heading.text()
    assert "notes.txt: not an input Layerloom reads" in view.heading.text()
    assert view.table.rowCount() == 4  # the last answer stays


def test_the_training_panel_has_a_predict_tab_for_the_selected_run(make_window, trained) -> None:
    from layerloom.app.gui.document import Document

    project, _, _ = trained
    window, _ = make_window(Document.open(project))
    panel = window.training
    tabs = [panel.tabs.tabText(i) for i in range(panel.tabs.count())]
    assert "Predict" in tabs and panel.predict.acceptDrops()
    assert panel._predict_target() == (project, None)  # none selected: the best run answers
    panel.runs.select([1])
    assert panel._predict_target() == (project, 1)
