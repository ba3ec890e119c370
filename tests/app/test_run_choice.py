"""One idea of "the result": evaluate and export default to the best finished run of the current
graph and say so; train ends with that run; evaluate warns when the data is not what the run
trained on and evaluates on the run's own data when asked. Real runs (a worker on a thread),
real SQLite, the real CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from layerloom.app.cli import main
from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.evaluating import evaluate
from layerloom.app.workbench.exporting import prepare_export
from layerloom.app.workbench.run_choice import choose_run, result_of
from layerloom.app.workbench.training import runs, start_run
from layerloom.backends.registry import create_backend
from layerloom.nodes.errors import LayerloomError

pytestmark = pytest.mark.keras

QUICK = {"epochs": 2, "batch_size": 64, "batch_event_every": 1000, "checkpoint_seconds": 0}


def train(opened, backend, **settings) -> int:
    session = start_run(opened, {**QUICK, **settings}, backend=backend)
    for _ in session.events(timeout=600):
        pass
    session.close()
    assert session.status == "finished", session.error
    return session.run_id


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, keras_session) -> tuple[Path, Path]:
    """Run 1 learns (a good rate), run 2 barely moves (a tiny rate): the newest is the worse."""
    folder = tmp_path_factory.mktemp("choice")
    path = folder / "choice.loom"
    create_project(path, "mlp_classifier").close()
    backend = create_backend("inprocess", root=folder / "jobs")
    with open_project(path) as opened:
        train(opened, backend, learning_rate=3e-3)
        train(opened, backend, learning_rate=1e-6, epochs=1)
    return path, folder / "jobs"


def test_the_best_finished_run_of_the_current_graph_is_chosen_and_named(two_runs) -> None:
    path, _ = two_runs
    with open_project(path, readonly=True) as opened:
        first, second = runs(opened)
        assert first.best_metrics["val_loss"] < second.best_metrics["val_loss"]
        chosen = choose_run(opened)
        assert chosen.run_id == 1 and chosen.checkpoint["kind"] == "best"
        loss = first.best_metrics["val_loss"]
        assert chosen.reason == (
            f"run 1 (the best finished run of the current graph: val_loss {loss:.4g} at epoch "
            f"{first.best_epoch})"
        )
        assert choose_run(opened, 2).reason == "run 2 (best checkpoint)"
        assert choose_run(opened, checkpoint="last").checkpoint["kind"] == "last"
        with pytest.raises(LayerloomError, match="has no run 9"):
            choose_run(opened, 9)
        with pytest.raises(LayerloomError, match="checkpoint must be best or last"):
            choose_run(opened, checkpoint="newest")
        # train's closing lines: this run's best epoch, and which run evaluate/export use
        result = result_of(opened, 2)
        assert result.best_epoch == 1 and "val_loss" in result.best_metrics
        assert result.chosen is not None and result.chosen.run_id == 1


def test_a_changed_graph_falls_back_to_the_newest_run_with_weights_and_says_so(two_runs) -> None:
    path, _ = two_runs
    with open_project(path, readonly=True) as opened:
        node = opened.graph.by_name("hidden_2")
        # An edit not yet saved as a version (the GUI's case) already counts.
        opened.graph.set_params(node.id, {**node.params, "units": 17})
        chosen = choose_run(opened, purpose="export")
    assert chosen.run_id == 2
    assert chosen.reason == (
        "run 2 (the newest run with weights, finished: no finished run of the current graph)"
    )


def test_no_weights_is_one_clear_line(tmp_path) -> None:
    path = tmp_path / "fresh.loom"
    create_project(path, "mlp_classifier").close()
    with open_project(path, readonly=True) as opened:
        with pytest.raises(LayerloomError) as refused:
            choose_run(opened, purpose="evaluate")
    assert str(refused.value) == (
        "fresh.loom has no trained weights to evaluate yet; train a run first "
        "(`layerloom train fresh.loom`)"
    )


def test_export_defaults_to_the_best_run_not_the_latest(two_runs, tmp_path) -> None:
    path, _ = two_runs
    with open_project(path, readonly=True) as opened:
        prepared = prepare_export(opened, "keras", tmp_path / "out")
    assert prepared.run_id == 1 and prepared.reason.startswith("run 1 (the best finished run")


def test_evaluate_uses_the_best_run_and_warns_when_the_data_changed(two_runs, tmp_path) -> None:
    path, jobs = two_runs
    backend = create_backend("inprocess", root=jobs)
    with open_project(path, readonly=True) as opened:
        result = evaluate(opened, backend=backend)
    assert result.run_id == 1 and result.warning is None
    assert result.reason.startswith("run 1 (the best finished run of the current graph")

    # The project's data changes after training: same shape, other examples.
    copy = tmp_path / "copy.loom"
    copy.write_bytes(path.read_bytes())
    rng = np.random.default_rng(3)
    other = tmp_path / "other data.npz"
    np.savez(other, x=rng.normal(size=(90, 20)).astype(np.float32), y=rng.integers(0, 3, 90))
    with open_project(copy) as opened:
        opened.project.set_setting("dataset", {"kind": "npz", "path": str(other)})
    with open_project(copy, readonly=True) as opened:
        changed = evaluate(opened, backend=backend)
        assert changed.warning is not None
        assert changed.warning.startswith("the project's dataset is not the one run 1 trained on")
        assert "the built-in sample 'tabular_classes'" in changed.warning
        assert "--run-data" in changed.warning
        assert changed.samples == 18  # the new data's validation split
        own = evaluate(opened, backend=backend, own_data=True)
    assert own.warning is None and own.samples == result.samples
    assert own.accuracy == pytest.approx(result.accuracy)


def test_the_cli_names_the_run_it_uses(two_runs, tmp_path, capsys) -> None:
    path, _ = two_runs
    copy = tmp_path / "cli.loom"
    copy.write_bytes(path.read_bytes())
    other = tmp_path / "other.npz"
    rng = np.random.default_rng(4)
    np.savez(other, x=rng.normal(size=(60, 20)).astype(np.float32), y=rng.integers(0, 3, 60))
    with open_project(copy) as opened:
        opened.project.set_setting("dataset", {"kind": "npz", "path": str(other)})
    before = copy.read_bytes()
    assert main(["evaluate", str(copy)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("using run 1 (the best finished run of the current graph")
    assert "warning: the project's dataset is not the one run 1 trained on" in err
    assert main(["evaluate", str(copy), "--run", "1", "--run-data"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("using run 1 (best checkpoint)") and "warning" not in err
    assert copy.read_bytes() == before  # evaluate records nothing


def test_train_ends_with_the_best_epoch_and_the_run_evaluate_and_export_use(
    tmp_path, capsys
) -> None:
    path = tmp_path / "cli train.loom"
    assert main(["new", str(path), "--template", "mlp_classifier"]) == 0
    assert main(["train", str(path), "--epochs", "2", "--batch-size", "128"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith("best epoch ") and " of 2 (its best checkpoint): " in out[-2]
    assert "val_loss" in out[-2] and " lr " not in out[-2]
    assert out[-1].startswith("evaluate and export use run 1 (the finished run of the current")
