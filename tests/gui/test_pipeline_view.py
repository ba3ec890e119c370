"""The Training panel's Pipeline tab on a project whose file holds pipeline runs (written through
the real store, ``nodes.project_pipelines``): newest first with their verdicts, the selected run's
steps with their figures, a step's inputs and figures in full. Rendered to PNG to be looked at."""

from __future__ import annotations

from pathlib import Path

from layerloom.app.workbench import create_project
from layerloom.nodes import project_pipelines as store
from layerloom.nodes.project_pipelines import PipelineStep
from tests.gui.helpers import png_dir

EVALUATION = {
    "metrics": {"loss": 0.21, "accuracy": 0.95},
    "per_class": [{"class": "non", "f1": 0.94}, {"class": "oui", "f1": 0.96}],
    "slices": {"couleur": [{"value": "bleu", "samples": 9, "accuracy": 1.0}]},
}


def _pipeline(conn, data: str, steps: list[PipelineStep], verdict: str, at: str, why: str,
              version: int | None = None) -> None:  # fmt: skip
    pipeline = store.insert_pipeline(conn, f"/data/{data}", "f" * 64, 1, "a" * 64, {}, "demo")
    for step in steps:
        store.add_step(conn, pipeline, step)
    store.finish_pipeline(conn, pipeline, verdict, at, why, version, f"/srv/demo/{version}")


def project_with_pipelines(path: Path) -> Path:
    with create_project(path, "mlp_classifier") as opened:
        conn = opened.project.conn
        clean = [
            PipelineStep("check-data", "passed", "no anomalies", figures={"anomalies": []}),
            PipelineStep("dataset", "passed", "200 examples"),
            PipelineStep("train", "passed", "run 1 finished",
                         figures={"best_metrics": {"val_accuracy": 0.97, "val_loss": 0.2}}),
            PipelineStep("evaluate", "passed", "20 examples: accuracy 0.9500", figures=EVALUATION),
            PipelineStep("gate", "passed", "accuracy >= 0.8: 0.95 (holds)"),
            PipelineStep("compare", "passed", "not compared: nothing pushed yet"),
            PipelineStep("push", "passed", "demo/1", figures={"version": 1, "path": "/srv/demo/1"}),
        ]  # fmt: skip
        _pipeline(conn, "semaine 1.csv", clean, "pushed", "push", "pushed demo version 1", 1)
        _pipeline(conn, "semaine 2.csv", clean, "pushed", "push", "pushed demo version 2", 2)
        _pipeline(
            conn,
            "sans b.csv",
            [PipelineStep("check-data", "refused", "missing column 'b' (required)")],
            "refused",
            "check-data",
            "missing column 'b' (required)",
        )
        shuffled = [
            *clean[:3],
            PipelineStep("evaluate", "passed", "30 examples: accuracy 0.5333",
                         figures={"metrics": {"loss": 0.7, "accuracy": 0.5333}}),
            PipelineStep("gate", "refused", "gate not met: accuracy >= 0.8: 0.5333 (fails)"),
        ]  # fmt: skip
        why = "gate not met: accuracy >= 0.8: 0.5333 (fails)"
        _pipeline(conn, "mélangé.csv", shuffled, "refused", "gate", why)
    return path


def test_the_pipeline_tab_lists_runs_and_their_steps(make_window, qtbot, tmp_path) -> None:
    from layerloom.app.gui.document import Document

    document = Document.open(project_with_pipelines(tmp_path / "demo.loom"))
    window, _ = make_window(document)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.show_training()
    panel = window.training
    view = panel.pipeline
    panel.tabs.setCurrentWidget(view)
    assert panel.tabs.tabText(panel.tabs.indexOf(view)) == "Pipeline"
    table = view.table
    assert table.rowCount() == 4 and view.empty.isHidden()
    assert [table.item(r, 0).text() for r in range(4)] == ["4", "3", "2", "1"]
    assert table.item(0, 2).text().endswith("refused") and table.item(0, 3).text() == "gate"
    assert table.item(2, 4).text() == "2" and table.item(0, 5).text() == "mélangé.csv"
    # The newest run is selected; its last step (the refusal) shows its inputs and figures.
    steps = [view.steps.topLevelItem(i).text(0) for i in range(view.steps.topLevelItemCount())]
    assert steps == ["check-data", "dataset", "train", "evaluate", "gate"]
    assert "0.5333 (fails)" in view.steps.topLevelItem(4).text(2)
    assert view.steps.topLevelItem(3).text(3) == "accuracy 0.533  loss 0.700"
    table.selectRow(1)
    assert view.steps.topLevelItemCount() == 1
    assert "missing column 'b'" in view.steps.topLevelItem(0).text(2)
    table.selectRow(2)
    view.steps.setCurrentItem(view.steps.topLevelItem(3))
    assert '"slices"' in view.details.toPlainText()
    folder = png_dir()
    view.setParent(None)  # a screenshot at a readable size, out of the dock
    view.resize(1100, 520)
    view.show()
    qtbot.wait(50)
    view.grab().save(str(folder / "pipeline_tab.png"))
    view.show_runs([])
    assert not view.empty.isHidden() and view.table.rowCount() == 0
