"""Keras target: the trained model itself, in Keras' own ``.keras`` format.

This is the reference every other artifact is checked against, so users can check one themselves.
Parity reloads the file the way a user should, ``load_model(..., safe_mode=True)``, in this
process, and predicts with it.
"""

from __future__ import annotations

from typing import Any

from layerloom.exporters.base import (
    TOLERANCE_OPTION,
    Artifact,
    ExportContext,
    Exporter,
    ExportError,
)
from layerloom.exporters.input_docs import input_section
from layerloom.exporters.plain_limits import KERAS
from layerloom.exporters.run import keras_outputs
from layerloom.exporters.text_formats import markdown
from layerloom.nodes.keras_runtime import load_keras


def _shape(dims: Any) -> str:
    return "(" + ", ".join("batch" if d is None else str(d) for d in dims) + ")"


def io_lines(ctx: ExportContext) -> list[str]:
    """Markdown lines naming the model's inputs and outputs with their dtypes and shapes."""
    lines = ["## Inputs", ""]
    for item in ctx.plan.inputs:
        lines.append(f"- `{item.name}`: {item.dtype}, shape {_shape([None, *item.shape])}")
    lines += ["", "## Outputs (in this order)", ""]
    for name, tensor in zip(ctx.plan.outputs, ctx.model.outputs, strict=False):
        lines.append(f"- `{name}`: {tensor.dtype}, shape {_shape(tensor.shape)}")
    if len(ctx.plan.inputs) > 1:
        lines += [
            "",
            "Feed several inputs as a dict keyed by input name (or a list in this order).",
        ]
    if ctx.class_names:
        classes = ", ".join(f"{i}: {markdown(name)}" for i, name in enumerate(ctx.class_names))
        lines += ["", f"Classes (index: name) of the first output: {classes}."]
    return lines


def _readme(ctx: ExportContext, file_name: str) -> str:
    lines = [
        f"# {ctx.plan.name}: the trained Keras model",
        "",
        f"`{file_name}` is the trained model in Keras' own format (architecture, weights and",
        "training settings in one zip file). It is the reference the other exports are checked",
        "against; load it to check an artifact yourself.",
        "",
        "```python",
        "import keras",
        "",
        f'model = keras.saving.load_model("{file_name}", safe_mode=True)',
        "predictions = model.predict(inputs)",
        "```",
        "",
        "Load `.keras` files only from sources you trust, and keep `safe_mode=True` (the default):",
        "a model file can carry code, and Keras runs it when loading with `safe_mode=False`.",
        "",
        *io_lines(ctx),
        "",
        input_section(ctx).rstrip("\n"),
    ]
    return "\n".join(lines) + "\n"


class KerasExporter(Exporter):
    target = "keras"
    limits = KERAS
    title = "Keras (.keras)"
    summary = "The trained model itself (.keras), so anyone can check an artifact against it"
    options = (TOLERANCE_OPTION,)
    requires = ("keras",)

    def export(self, ctx: ExportContext) -> Artifact:
        keras = load_keras()
        path = ctx.out_dir / f"{ctx.model_name}.keras"
        ctx.progress(f"saving {path.name}")
        ctx.model.save(path)
        readme = ctx.out_dir / "README.md"
        readme.write_text(_readme(ctx, path.name), encoding="utf-8")
        return Artifact(
            [path, readme],
            runtime=f"Keras {keras.__version__} (load_model, safe_mode)",
            details={"file": path.name, "bytes": path.stat().st_size},
        )

    def predict(self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]) -> list[Any]:
        if artifact.handle is None:
            keras = load_keras()
            ctx.progress(f"loading {artifact.files[0].name} (safe_mode)")
            try:
                # What a user runs: the default compile=True also proves the training settings load.
                artifact.handle = keras.saving.load_model(artifact.files[0], safe_mode=True)
            except Exception as error:  # any load failure is the export's failure
                raise ExportError(f"the saved .keras file does not load: {error}") from error
        return keras_outputs(artifact.handle, inputs)
