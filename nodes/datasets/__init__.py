"""Project datasets: sources (CSV/TSV, image folder, NumPy .npz, built-in samples), splits,
fingerprints, validation against the graph's Input nodes, and tf.data pipelines.

A dataset is described by a JSON-able dict stored in the project (setting ``"dataset"``)::

    {"kind": "csv", "path": "data.csv", "target": "label", "features": ["a", "b"] | None,
     "categorical": ["colour"] | None, "delimiter": None,      # default: tab for .tsv/.tab
     "split": {"validation": 0.2, "test": 0.1, "seed": 42, "column": None}}
    {"kind": "images", "path": "photos/"}              # one sub-folder per class
    {"kind": "npz", "path": "arrays.npz", "x": "x", "y": "y"}
    {"kind": "sample", "name": "digits"}               # built in, generated deterministically

Every kind also takes ``"split"`` (defaults above; ``column`` is CSV only) and ``"task"``
("classification" | "regression" | "reconstruction"; inferred when absent). CSV ``features`` may
map Input names to column lists, and npz ``x`` may map Input names to array names, for a model with
several Inputs.

Public API (the training worker and the CLI use only this):

    source = open_source(spec, base_dir=None)  # DataSource; bad specs/files raise DatasetError
    source.fingerprint() -> str            # content hash (sha256 hex), stored with each run
    source.preview(rows=5) -> Preview      # columns/classes/shapes/counts for `layerloom data`
    source.check(plan) -> DataInfo         # fits the BuildPlan's inputs/outputs? else DatasetError
    make_pipelines(source, plan, batch_size, seed) -> Pipelines   # imports TensorFlow
    SAMPLES: dict[name, description];  sample_for_template(template_name) -> dataset spec
    dataset_spec_for(opened) -> spec       # the project's spec (absolute paths) or its template's
    store_dataset_spec(opened, spec)       # writes the setting, paths relative to the project
    spec_from_options(options, current)    # a spec from CLI-style options (`layerloom data`)
    SOURCES: dict[kind, DataSource class]  # every kind, in the order the faces offer them
    register_source(cls)                   # add a kind: its class declares its CLI flag and
                                           # options and its GUI label, file dialog and fields

Adding a source is one module: a DataSource subclass decorated with ``register_source`` (the
built-in ones are imported by ``specs``). ``layerloom data`` and the GUI's Data tab generate their
choices from ``SOURCES``; nothing else names the kinds.
"""

from layerloom.nodes.datasets.base import (
    DataInfo,
    DataSource,
    Preview,
    SourceOption,
    register_source,
)
from layerloom.nodes.datasets.pipelines import Pipelines, make_pipelines
from layerloom.nodes.datasets.samples import SAMPLES
from layerloom.nodes.datasets.specs import (
    SOURCES,
    dataset_spec_for,
    open_source,
    sample_for_template,
    spec_for_storage,
    spec_from_options,
    store_dataset_spec,
    stored_dataset_spec,
)
from layerloom.nodes.errors import DatasetError

__all__ = [
    "SAMPLES",
    "SOURCES",
    "DataInfo",
    "DataSource",
    "DatasetError",
    "Pipelines",
    "Preview",
    "SourceOption",
    "dataset_spec_for",
    "make_pipelines",
    "open_source",
    "register_source",
    "sample_for_template",
    "spec_for_storage",
    "spec_from_options",
    "store_dataset_spec",
    "stored_dataset_spec",
]
