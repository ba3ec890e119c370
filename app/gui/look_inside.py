"""The Look Inside panel: every node's output on one sample, previewed on the canvas, and why the
model predicted what it did (the Explain tab).

Previews: the user picks a sample (an example of the project's dataset by number, a file chosen
here, or a file dropped on the canvas) and whose weights (the best finished run, the initial
weights, or a given run); the panel runs an ``inspect`` job in a worker off the GUI thread and
hands the result to the document's ``NodePreviews``, which the canvas draws under each card.
Every edit of the graph asks again, debounced (``DEBOUNCE_MS``); while a job runs, the newest
request waits for it to end, so at most one worker runs and the canvas never waits.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from layerloom.app.gui.explain_view import ExplainView
from layerloom.app.gui.previews import node_previews
from layerloom.app.gui.training.offthread import one_line, run_off_thread
from layerloom.app.workbench.inspecting import dataset_example, prepare, run_prepared
from layerloom.nodes.errors import LayerloomError

DEBOUNCE_MS = 600
BEST, INITIAL = "best", "initial"


class PreviewControls(QWidget):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self.previews = None
        self.dropped = ""  # a file chosen or dropped: the sample while set
        self._task = None
        self.backend = None  # where jobs run: None is the local worker (tests may choose)
        self._pending = False
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.compute)

        self.show_box = QCheckBox("Show each node's output on the canvas")
        self.show_box.setAccessibleName("Show previews")
        self.example = QSpinBox()
        self.example.setRange(1, 1_000_000)
        self.example.setAccessibleName("Dataset example")
        self.example.setToolTip("Which example of the project's dataset to feed")
        self.choose = QPushButton("File…")
        self.choose.setToolTip("Feed a file instead (or drop one on the canvas)")
        self.use_dataset = QPushButton("Dataset")
        self.use_dataset.setToolTip("Feed the dataset example again")
        self.sample_label = QLabel()
        self.weights = QComboBox()
        self.weights.setAccessibleName("Weights")
        self.status = QLabel()
        self.status.setWordWrap(True)
        sample_row = QHBoxLayout()
        for widget in (self.example, self.choose, self.use_dataset):
            sample_row.addWidget(widget)
        sample_row.addStretch(1)
        form = QFormLayout()
        form.addRow(self.show_box)
        form.addRow("Sample:", sample_row)
        form.addRow("", self.sample_label)
        form.addRow("Weights:", self.weights)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.show_box.toggled.connect(self._on_show)
        self.example.valueChanged.connect(lambda _value: self._use_dataset())
        self.use_dataset.clicked.connect(self._use_dataset)
        self.choose.clicked.connect(self._choose_file)
        self.weights.activated.connect(lambda _index: self.request())
        self.set_document(document)

    # --- document -------------------------------------------------------------------------------
    def set_document(self, document) -> None:
        if self._task is not None:
            self._task.cancel()  # its answer is about the previous document
            self._task, self._pending = None, False
        if self.document is not None:
            self.document.changed.disconnect(self._on_graph_changed)
            self.previews.file_dropped.disconnect(self.use_file)
            self.previews.clear()
        self.document = document
        self.previews = node_previews(document)
        self.previews.set_visible(self.show_box.isChecked())
        document.changed.connect(self._on_graph_changed)
        self.previews.file_dropped.connect(self.use_file)
        self.dropped = ""
        self._fill_weights()
        self._show_sample()
        self.request()

    def _fill_weights(self) -> None:
        """Best, initial, then every run, newest first; the current choice is kept."""
        current = self.weights.currentData()
        self.weights.clear()
        self.weights.addItem("Best finished run", (BEST, None))
        self.weights.addItem("Initial weights", (INITIAL, None))
        opened = self.document.opened
        if opened is None:
            return
        from layerloom.app.workbench.training import runs_without_waiting

        try:
            for summary in reversed(runs_without_waiting(opened)):
                self.weights.addItem(f"Run {summary.id} ({summary.status})", ("run", summary.id))
        except LayerloomError:
            pass  # the list is a convenience; best and initial always work
        found = self.weights.findData(current)
        self.weights.setCurrentIndex(max(found, 0))

    # --- what to feed ----------------------------------------------------------------------------
    def _show_sample(self) -> None:
        if self.dropped:
            self.sample_label.setText(f"file: {Path(self.dropped).name}")
        else:
            self.sample_label.setText(f"dataset example {self.example.value()}")

    def use_file(self, path: str) -> None:
        self.dropped = path
        self._show_sample()
        if not self.show_box.isChecked():
            self.show_box.setChecked(True)  # dropping a sample means "show me"
        self.request(now=True)

    def _use_dataset(self) -> None:
        self.dropped = ""
        self._show_sample()
        self.request()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Feed a File", "", "Inputs (*.png *.jpg *.jpeg *.gif *.bmp *.csv *.tsv *.npz)"
        )
        if path:
            self.use_file(path)

    # --- computing -------------------------------------------------------------------------------
    def _on_show(self, shown: bool) -> None:
        self.previews.set_visible(shown)
        if shown:
            self.request(now=True)

    def _on_graph_changed(self, event) -> None:
        if event.kind != "moved":
            self.request()

    def request(self, now: bool = False) -> None:
        if not self.show_box.isChecked():
            return
        self._timer.start(0 if now else DEBOUNCE_MS)

    @property
    def busy(self) -> bool:
        return self._task is not None

    def compute(self) -> None:
        """Start an inspect job for the current graph, sample and weights (one at a time)."""
        if self._task is not None:
            self._pending = True
            return
        opened = self.document.opened
        if opened is None:
            self.status.setText("Save the project first: the sample comes from its dataset.")
            return
        self._fill_weights()  # runs may have finished since
        kind, run_id = self.weights.currentData() or (BEST, None)
        try:
            if self.dropped:
                inputs, arrays, name = [self.dropped], None, Path(self.dropped).name
            else:
                example = dataset_example(opened, self.document.graph, self.example.value() - 1)
                self.example.setMaximum(example.count)
                inputs = [example.file] if example.file else None
                arrays, name = example.arrays, example.name
            prepared = prepare(
                opened,
                "inspect",
                inputs,
                arrays,
                run_id=run_id,
                graph=self.document.graph,
                options={"previews": True},
                initial=kind == INITIAL,
            )
        except LayerloomError as error:
            self.status.setText(one_line(error))
            return
        self.status.setText(f"Computing {name} with {prepared.reason}…")
        self._task = run_off_thread(
            lambda report: run_prepared(prepared, "inspection", self.backend),
            lambda result, error: self._done(result, error, prepared.reason, name),
            name="layerloom-inspect",
        )

    def _done(self, result, error, reason: str, name: str) -> None:
        self._task = None
        if error:
            self.status.setText(error)
        else:
            self.previews.set_results(result["nodes"], reason, name)
            self.status.setText(f"{name} · {reason}")
        if self._pending:
            self._pending = False
            self.compute()


class LookInsidePanel(QTabWidget):
    """The dock's content: the Previews tab and the Explain tab."""

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.controls = PreviewControls(document)
        self.explain = ExplainView(document)
        self.addTab(self.controls, "Previews")
        self.addTab(self.explain, "Explain")

    def set_document(self, document) -> None:
        self.controls.set_document(document)
        self.explain.set_document(document)
