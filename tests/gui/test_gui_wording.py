"""Errors the workbench shares with the CLI speak GUI in the window: no `layerloom ...` commands."""

from __future__ import annotations

import pytest

from layerloom.app.gui.main_window import error_text
from layerloom.app.gui.wording import gui_text
from layerloom.app.workbench import create_project, open_project
from layerloom.app.workbench.editing import find_type
from layerloom.app.workbench.run_choice import choose_run
from layerloom.nodes.errors import LayerloomError
from layerloom.nodes.registry import default_registry


def test_known_cli_hints_become_places_in_the_window():
    assert gui_text("set one with `layerloom data`") == "set one in Training ▸ Data"
    assert gui_text("train first (`layerloom train p.loom`)") == "train first (open Run ▸ Train)"
    assert gui_text("b: run `layerloom remote setup b` to fix") == "b: open Run ▸ Remotes… to fix"
    assert gui_text("nothing to change here") == "nothing to change here"


def test_a_real_no_runs_error_names_the_menu_not_the_command(tmp_path):
    opened = create_project(tmp_path / "projekt ü.loom", "mlp_classifier")
    opened.close()
    with open_project(tmp_path / "projekt ü.loom", readonly=True) as opened:
        with pytest.raises(LayerloomError) as caught:
            choose_run(opened, None, purpose="evaluate")
    assert "`layerloom train" in str(caught.value)  # the CLI keeps its command
    shown = error_text(caught.value)
    assert "layerloom" not in shown and "Run ▸ Train" in shown


def test_an_unknown_layer_points_at_the_palette():
    with pytest.raises(LayerloomError) as caught:
        find_type(default_registry(), "Dennse")
    shown = error_text(caught.value)
    assert "`layerloom" not in shown and "the Layers palette" in shown


def test_the_training_panels_status_line_speaks_gui(qapp):
    from layerloom.app.gui.training.progress import ProgressStrip

    strip = ProgressStrip()
    strip.set_state("refused", "p.loom has no dataset; set one with `layerloom data`")
    assert strip.status.text() == "Not started: p.loom has no dataset; set one in Training ▸ Data"
