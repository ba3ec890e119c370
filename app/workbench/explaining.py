"""Why did the model predict that: ``layerloom explain`` and the GUI's Explain view.

The weights and inputs are chosen as for ``inspect`` (``inspecting.prepare``); the worker job
(``backends.keras_explain``) answers with Grad-CAM maps for image models and integrated-gradients
attributions per column for tabular ones. ``out_dir`` receives, per image input,
``NAME.heatmap.png`` (the map, grayscale, at the image file's own size) and ``NAME.overlay.png``
(the map over the image), NAME being the file's name without its extension (a second input of
the same name gets ``-2``, ...).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.app.workbench import OpenProject
from layerloom.app.workbench.inspecting import Prepared, file_name, prepare, run_prepared
from layerloom.backends.base import Backend
from layerloom.nodes.graph import Graph
from layerloom.nodes.png import write_bytes

__all__ = ["Explanation", "explain", "prepare_explanation", "finish_explanation"]


@dataclass
class Explanation:
    reason: str  # which weights, one line
    run_id: int | None
    method: str  # 'grad-cam' or 'integrated-gradients'
    node: str | None  # Grad-CAM's convolutional node, as on the canvas
    baseline: str | None  # integrated gradients' baseline, in words
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> list[dict[str, Any]]:
        """The CLI's ``--json``: per input row, what it is, what was predicted and why."""
        out = []
        for row in self.rows:
            item = {"input": row["input"], "prediction": row["prediction"]}
            if row.get("explained", row["prediction"]) != row["prediction"]:
                item["explained"] = row["explained"]  # --class named another class
            if "attributions" in row:
                item["attributions"] = row["attributions"]
            else:
                item.update(node=self.node, peak=row["peak"])
                item.update({k: row[k] for k in ("heatmap", "overlay") if k in row})
            out.append(item)
        return out

    def top_features(self, row: dict[str, Any], count: int = 5) -> list[tuple[str, float]]:
        ranked = sorted(row.get("attributions", {}).items(), key=lambda kv: -abs(kv[1]))
        return ranked[:count]


def prepare_explanation(
    opened: OpenProject,
    inputs: list[str | Path] | None = None,
    arrays: dict[str, np.ndarray] | None = None,
    run_id: int | None = None,
    class_name: str | None = None,
    graph: Graph | None = None,
) -> Prepared:
    return prepare(opened, "explain", inputs, arrays, run_id, graph, options={"class": class_name})


def _stems(rows: list[dict[str, Any]]) -> list[str]:
    taken: dict[str, int] = {}
    stems = []
    for row in rows:
        stem = file_name(Path(str(row["input"]).replace("\\", "/")).stem or str(row["input"]))
        taken[stem] = taken.get(stem, 0) + 1
        stems.append(stem if taken[stem] == 1 else f"{stem}-{taken[stem]}")
    return stems


def finish_explanation(
    prepared: Prepared, found: dict[str, Any], out_dir: str | Path | None = None
) -> Explanation:
    rows = found["rows"]
    if out_dir is not None and found["method"] == "grad-cam":
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for row, stem in zip(rows, _stems(rows), strict=True):
            for kind in ("heatmap", "overlay"):
                data = base64.b64decode(row[f"{kind}_png"])
                row[kind] = str(write_bytes(folder / f"{stem}.{kind}.png", data))
    return Explanation(
        reason=prepared.reason,
        run_id=prepared.run_id,
        method=found["method"],
        node=found.get("node"),
        baseline=found.get("baseline"),
        rows=rows,
    )


def explain(
    opened: OpenProject,
    inputs: list[str | Path],
    run_id: int | None = None,
    class_name: str | None = None,
    out_dir: str | Path | None = None,
    backend: Backend | None = None,
) -> Explanation:
    """Explain the model's prediction for every example of ``inputs``."""
    prepared = prepare_explanation(opened, inputs, run_id=run_id, class_name=class_name)
    found = run_prepared(prepared, "explanation", backend)
    return finish_explanation(prepared, found, out_dir)
