"""The Training panel's widgets and their arrangement: the result tabs (Curves, Evaluation,
Predict, Health, Pipeline, Log, Data, Statistics), the side box (Runs, and Settings when narrow) and
the frame that holds them under the progress strip.

A mixin for ``TrainingPanel`` so the panel module stays about following runs; the panel calls the
``_build_*`` methods from its ``__init__`` after the progress strip, the settings form and the
remote controls exist (the side box and frame place those).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.training.data_view import DataView
from layerloom.app.gui.training.dataset_panel import DatasetPanel
from layerloom.app.gui.training.evaluation import EvaluationView
from layerloom.app.gui.training.health_view import HealthView
from layerloom.app.gui.training.pipeline_view import PipelineView
from layerloom.app.gui.training.plots import MetricPlots
from layerloom.app.gui.training.predict_view import PredictView
from layerloom.app.gui.training.runs_table import RunsTable


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "section")
    return label


class PanelLayoutMixin:
    def _build_views(self) -> None:
        """The result tabs: curves, evaluation, predict, health, pipeline, log, data, statistics."""
        self.plots = MetricPlots()
        self.evaluation = EvaluationView()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setAccessibleName("Training log")
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.plots, "Curves")
        self.tabs.addTab(self.evaluation, "Evaluation")
        self.predict = PredictView(self.service, self._predict_target)
        self.tabs.addTab(self.predict, "Predict")
        self.health = HealthView()  # per-node training health; colours the canvas
        self.tabs.addTab(self.health, "Health")
        self.pipeline = PipelineView()  # what `layerloom pipeline` recorded, step by step
        self.tabs.addTab(self.pipeline, "Pipeline")
        self.tabs.addTab(self.log, "Log")
        self.data = DatasetPanel()
        # "Fit the graph" sets the loss and metrics: the form shows what is stored now.
        self.data.settings_changed.connect(self.form.set_values)
        self.tabs.addTab(self.data, "Data")
        self.data_view = DataView()  # statistics, schema and anomalies of the dataset
        self.tabs.addTab(self.data_view, "Statistics")

    def _build_side(self) -> None:
        """The runs table with its buttons, and the settings box (a tab beside Runs when narrow)."""
        self.runs = RunsTable()
        self.runs.selection_changed.connect(self._on_runs_selected)
        self.runs.run_activated.connect(lambda run_id: self.evaluate(run_id))
        self.split = QComboBox()
        self.split.addItems(["validation", "test", "train"])
        self.split.setAccessibleName("Evaluation split")
        self.split.setToolTip("Which part of the dataset to evaluate on")
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Evaluate the selected run's best checkpoint")
        self.evaluate_button.clicked.connect(lambda: self.evaluate())
        self.runs_hint = QLabel("Select runs to compare their curves.")
        self.runs_hint.setProperty("role", "secondary")

        self.settings_box = QWidget()
        settings_layout = QVBoxLayout(self.settings_box)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        self.settings_heading = _heading("Settings")
        settings_layout.addWidget(self.settings_heading)
        settings_layout.addWidget(self.form, 1)
        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(self.runs, 1)
        runs_layout.addWidget(self.runs_hint)
        buttons = QHBoxLayout()
        buttons.addWidget(self.split)
        buttons.addStretch(1)
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.stop_run_button)
        buttons.addWidget(self.evaluate_button)
        runs_layout.addLayout(buttons)
        self.side = QTabWidget()
        self.side.setDocumentMode(True)
        self.side.addTab(runs_box, "Runs")

    def _build_frame(self) -> None:
        """Progress strip, backend chooser and the splitter, in a scroll area filling the panel."""
        # Wide (a floating or full-width panel): settings | curves | runs. Narrow (the bottom dock
        # between the side panels): curves | runs and settings as tabs. See _arrange.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.wide: bool | None = None
        self._arrange(False)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(4, 4, 4, 4)
        inner.setSpacing(4)
        inner.addWidget(self.progress)
        inner.addWidget(self.chooser)
        inner.addWidget(self.splitter, 1)
        # A dock may be made smaller than the panel can lay out; scroll rather than squeeze the
        # canvas (a dock's minimum size is its widget's).
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    # --- layout -------------------------------------------------------------------------------
    def _arrange(self, wide: bool) -> None:
        """Settings as a column of their own when there is room, else as a tab beside Runs."""
        if wide == self.wide:
            return
        self.wide = wide
        em = self.fontMetrics().averageCharWidth()
        if wide:
            index = self.side.indexOf(self.settings_box)
            if index >= 0:
                self.side.removeTab(index)
            self.splitter.insertWidget(0, self.settings_box)
            self.settings_heading.show()
            self.settings_box.show()
            self.splitter.setStretchFactor(0, 0)
            self.splitter.setStretchFactor(1, 1)
            self.splitter.setStretchFactor(2, 0)
            self.splitter.setSizes([em * 40, em * 110, em * 60])
        else:
            self.settings_heading.hide()
            self.side.addTab(self.settings_box, "Settings")
            self.splitter.setStretchFactor(0, 1)
            self.splitter.setStretchFactor(1, 0)
            self.splitter.setSizes([em * 100, em * 46])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange(event.size().width() >= self.fontMetrics().averageCharWidth() * 180)
