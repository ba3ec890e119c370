"""The training settings form offers the ``augmentation`` setting (generated from SETTINGS)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from layerloom.app.gui.training.settings_form import SettingsForm
from layerloom.nodes import training
from tests.gui.helpers import png_dir


def test_augmentation_is_a_choice_under_run_and_is_stored(qtbot):
    stored = []
    form = SettingsForm({}, on_change=stored.append)
    qtbot.addWidget(form)
    form.resize(420, 760)
    form.show()
    combo = form.editors["augmentation"].combo
    assert [combo.itemText(i) for i in range(combo.count())] == list(training.AUGMENTATIONS)
    assert combo.currentText() == "none"
    labels = [label.text() for label in form.findChildren(QLabel)]
    # under the "Run" heading, right after the seed
    assert labels.index("Augmentation") == labels.index("Seed") + 1 > labels.index("Run")
    combo.setCurrentText("flip_rotate")
    assert stored[-1]["augmentation"] == "flip_rotate"
    assert training.resolve(stored[-1])["augmentation"] == "flip_rotate"
    form.grab().save(str(png_dir() / "settings_form_augmentation.png"))
