"""TF Serving: a versioned SavedModel folder (``<name>/<version>/``) with a named signature.

The ``serving_default`` signature takes one tensor per Input node and returns a dict keyed by the
output nodes' names, so a REST request names what it feeds and a response names what it got; the
batch dimension stays open. Next to the model go a TF Serving model config, an example request
built from the parity batch, a README and Docker files. The server binary cannot be installed
here, so parity runs the same signature in TensorFlow, which is what the server executes, and
``saved_model_cli`` proves the signature is what a server will see.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from layerloom.exporters.base import (
    TOLERANCE_OPTION,
    Artifact,
    ExportContext,
    Exporter,
    ExportError,
)
from layerloom.exporters.plain_limits import SERVING
from layerloom.nodes.params import Int, Str
from layerloom.nodes.plan import BuildPlan

SIGNATURE = "serving_default"
# TF Serving puts the name in URLs and folder names: keep it to what is safe in both.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# A row of the example request bigger than this is shown once, not twice (a big image is ~600k).
_ROW_BUDGET = 20_000


def signature_function(model: Any, plan: BuildPlan) -> tuple[Any, dict[str, Any]]:
    """A tf.function of named, batch-open TensorSpecs (one per Input node) returning a dict keyed
    by output node name; ONNX converts the same function, so both targets name tensors alike."""
    import tensorflow as tf

    specs = {
        item.name: tf.TensorSpec([None, *item.shape], tf.as_dtype(item.dtype), name=item.name)
        for item in plan.inputs
    }
    names = [item.name for item in plan.inputs]

    def serve(inputs: dict[str, Any]) -> dict[str, Any]:
        # The model's inputs are in plan order; a list (or a lone tensor) avoids Keras' warning
        # about a dict whose structure differs from the model's.
        feed = [inputs[name] for name in names]
        outputs = model(feed if len(feed) > 1 else feed[0], training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return dict(zip(plan.outputs, outputs, strict=True))

    return tf.function(serve, input_signature=[specs], autograph=False), specs


def next_version(base: Path) -> int:
    """One more than the highest integer folder under ``base`` (1 for none)."""
    if not base.is_dir():
        return 1
    taken = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(taken, default=0) + 1


def compact_rows(array: np.ndarray) -> list[Any]:
    """Nested lists whose floats print as float32's shortest form (0.1234568, not 0.12345679104)
    and still parse back to the same float32 values."""
    if np.issubdtype(array.dtype, np.floating):
        return np.vectorize(lambda v: float(str(np.float32(v))), otypes=[object])(array).tolist()
    return array.tolist()


def cli_command() -> list[str]:
    """``saved_model_cli`` from this environment (it ships with TensorFlow)."""
    script = Path(sys.executable).parent / "saved_model_cli"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]


class ServingExporter(Exporter):
    target = "serving"
    title = "Server (TF Serving)"
    summary = "A versioned SavedModel for TensorFlow Serving, with a REST example and Docker files"
    options = (
        Str("model_name", "", "the name on the server (empty: the project's model name)"),
        Int("version", 0, "the version folder to write (0: the next free number)", min=0),
        TOLERANCE_OPTION,
    )
    requires = ("tensorflow",)
    limits = SERVING
    # TF Serving keeps versions side by side: a second export into the same folder adds version 2.
    reuses_folder: ClassVar[bool] = True

    def on_parity_failure(
        self, files: list[str], details: dict[str, Any]
    ) -> tuple[list[str], dict[str, Any]]:
        """A served version that failed parity must not go live: a server watching the folder
        loads every numbered version, so it is renamed to a hidden ``.N.failed-parity`` folder."""
        version_dir = details.get("version_dir")
        if not version_dir or not Path(version_dir).is_dir():
            return files, details
        old = Path(version_dir)
        new = old.with_name(f".{old.name}.failed-parity")
        shutil.rmtree(new, ignore_errors=True)
        old.rename(new)
        moved = [
            str(new / Path(f).relative_to(old)) if Path(f).is_relative_to(old) else f for f in files
        ]
        return moved, {**details, "version_dir": str(new)}

    def resolve_options(self, given: dict[str, Any] | None = None) -> dict[str, Any]:
        resolved = super().resolve_options(given)
        name = resolved["model_name"].strip()
        if name and not _SAFE_NAME.match(name):
            raise ExportError(
                f"serving option model_name: {name!r} may hold only letters, digits, '_', '.'"
                " and '-' (it becomes part of the server's URL)"
            )
        resolved["model_name"] = name
        return resolved

    def export(self, ctx: ExportContext) -> Artifact:
        import tensorflow as tf

        name = ctx.options.get("model_name") or ctx.model_name
        base = ctx.out_dir / name
        version = int(ctx.options.get("version") or 0) or next_version(base)
        version_dir = base / str(version)
        if version_dir.exists() and any(version_dir.iterdir()):
            raise ExportError(
                f"version {version} of {name} already exists in {base}; choose another version"
                " (0 picks the next free one)"
            )
        # Written beside its final place and renamed when checked: a server watching ``base``
        # ignores a folder whose name is not a number, so it never loads a half-written version.
        staging = base / f".{version}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        ctx.progress(f"writing the SavedModel {name}/{version}")
        try:
            self._write_saved_model(ctx, staging)
            loaded = tf.saved_model.load(str(staging))  # variables are read now, in full
            signature = describe_signature(loaded.signatures[SIGNATURE], ctx.plan)
            ctx.progress("checking the signature with saved_model_cli")
            shown = check_shown(show_signature(staging), ctx.plan)
            if version_dir.exists():
                version_dir.rmdir()  # empty (checked above)
            staging.rename(version_dir)
        except Exception as error:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(error, ExportError):
                raise
            # TF's errors are many and long; the user needs one readable line.
            raise ExportError(
                f"the SavedModel could not be written: {_first_line(error)}"
            ) from error
        files = sorted(p for p in version_dir.rglob("*") if p.is_file())
        main = version_dir / "saved_model.pb"
        files = [main, *(p for p in files if p != main)]
        files += self._write_extras(ctx, name, version, signature)
        details = {
            "model_name": name,
            "version": version,
            "version_dir": str(version_dir),
            "signature": signature,
            "rest_url": f"http://localhost:8501/v1/models/{name}:predict",
            "saved_model_cli": shown,
        }
        runtime = f"TensorFlow {tf.__version__} SavedModel ({SIGNATURE})"
        return Artifact(files, runtime, details, handle=loaded)

    def predict(self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]) -> list[Any]:
        import tensorflow as tf

        loaded = artifact.handle or tf.saved_model.load(artifact.details["version_dir"])
        signature = loaded.signatures[SIGNATURE]
        feed = {
            item.name: tf.constant(np.asarray(inputs[item.name], dtype=item.dtype))
            for item in ctx.plan.inputs
        }
        result = signature(**feed)
        return [np.asarray(result[name]) for name in ctx.plan.outputs]

    # --- steps ---------------------------------------------------------------------------------
    def _write_saved_model(self, ctx: ExportContext, version_dir: Path) -> None:
        import tensorflow as tf

        function, _ = signature_function(ctx.model, ctx.plan)
        concrete = function.get_concrete_function()
        # A bare module holding only what the signature reads saves in half the time of
        # keras.export.ExportArchive, which walks the whole Keras object graph looking for lookup
        # tables. No catalog layer has one; tf.saved_model.save refuses an untracked resource,
        # and the coverage test exports every layer, so adding one would be caught.
        root = tf.Module()
        root.variables_read = list(concrete.variables)
        version_dir.parent.mkdir(parents=True, exist_ok=True)
        tf.saved_model.save(root, str(version_dir), signatures={SIGNATURE: concrete})

    def _write_extras(
        self, ctx: ExportContext, name: str, version: int, signature: dict[str, Any]
    ) -> list[Path]:
        out = ctx.out_dir
        written = {
            "models.config": models_config(name),
            "request.json": example_request(ctx),
            "README.md": readme(name, version, signature, request_rows(ctx)),
            "Dockerfile": dockerfile(name),
            "compose.yaml": compose(name),
        }
        for file_name, text in written.items():
            (out / file_name).write_text(text, encoding="utf-8")
        return [out / file_name for file_name in written]


SHOW_ARGS = ("show", "--tag_set", "serve", "--signature_def", SIGNATURE)


def show_signature(saved_model_dir: Path) -> str:
    """What ``saved_model_cli show --dir DIR --tag_set serve --signature_def serving_default``
    prints: the signature's inputs and outputs as a server reads them from ``saved_model.pb``.

    saved_model_cli's own code, run in this process: the command would cost a second TensorFlow
    start-up (~3 s, most of a serving export). The command is the fallback if TF moves it.
    """
    try:
        from tensorflow.python.tools import saved_model_cli

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            saved_model_cli._show_inputs_outputs(  # noqa: SLF001 - the CLI's own code
                str(saved_model_dir), "serve", SIGNATURE
            )
        return buffer.getvalue()
    except (ImportError, AttributeError):
        pass
    try:
        done = subprocess.run(
            [*cli_command(), *SHOW_ARGS, "--dir", str(saved_model_dir)],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
    except subprocess.TimeoutExpired as error:
        raise ExportError("saved_model_cli did not finish within 3 minutes") from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ExportError(f"saved_model_cli could not read the SavedModel: {last}")
    return done.stdout


def check_shown(shown: str, plan: BuildPlan) -> str:
    """``shown`` itself; ExportError when an input's or output's node name is missing from it."""
    missing = [f"input '{i.name}'" for i in plan.inputs if f"inputs['{i.name}']" not in shown]
    missing += [f"output '{o}'" for o in plan.outputs if f"outputs['{o}']" not in shown]
    if missing:
        raise ExportError(f"saved_model_cli does not show {', '.join(missing)} in the SavedModel")
    return shown.rstrip()


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def describe_signature(function: Any, plan: BuildPlan) -> dict[str, Any]:
    """Inputs and outputs of the loaded signature: name -> shape (None = any) and dtype."""

    def spec(item: Any) -> dict[str, Any]:
        return {"shape": item.shape.as_list(), "dtype": item.dtype.name}

    _, inputs = function.structured_input_signature
    outputs = function.structured_outputs
    return {
        "inputs": {i.name: spec(inputs[i.name]) for i in plan.inputs},
        "outputs": {name: spec(outputs[name]) for name in plan.outputs},
    }


def request_rows(ctx: ExportContext) -> int:
    """How many examples of the parity batch the example request shows: two, one if they're big."""
    first = next(iter(ctx.sample.values()))
    row_size = sum(int(np.prod(a.shape[1:])) for a in ctx.sample.values())
    return min(len(first), 1 if row_size > _ROW_BUDGET else 2)


def example_request(ctx: ExportContext) -> str:
    """A REST predict body in the columnar ``inputs`` form (one key per Input node), which takes
    several named inputs where the row form would need every input in every instance."""
    rows = request_rows(ctx)
    lines = [
        f"  {json.dumps(item.name)}: "
        + json.dumps(
            compact_rows(np.asarray(ctx.sample[item.name][:rows], dtype=item.dtype)),
            separators=(",", ":"),
        )
        for item in ctx.plan.inputs
    ]
    return '{"inputs": {\n' + ",\n".join(lines) + "\n}}\n"


def models_config(name: str) -> str:
    # base_path is where the Docker files below mount the model inside the container.
    return (
        "model_config_list {\n"
        "  config {\n"
        f'    name: "{name}"\n'
        f'    base_path: "/models/{name}"\n'
        '    model_platform: "tensorflow"\n'
        "  }\n"
        "}\n"
    )


def dockerfile(name: str) -> str:
    return (
        "# An image that serves this model on ports 8500 (gRPC) and 8501 (REST).\n"
        "FROM tensorflow/serving\n"
        f"COPY {name} /models/{name}\n"
        f"ENV MODEL_NAME={name}\n"
    )


def compose(name: str) -> str:
    return (
        "services:\n"
        "  serving:\n"
        "    image: tensorflow/serving\n"
        "    ports:\n"
        '      - "8500:8500"\n'
        '      - "8501:8501"\n'
        "    volumes:\n"
        f"      - ./{name}:/models/{name}:ro\n"
        "    environment:\n"
        f"      MODEL_NAME: {name}\n"
    )


def _shape_text(shape: list[int | None]) -> str:
    return (
        "("
        + ", ".join("batch" if d is None and i == 0 else str(d) for i, d in enumerate(shape))
        + ")"
    )


def readme(name: str, version: int, signature: dict[str, Any], examples: int) -> str:
    def rows(kind: str) -> str:
        return "\n".join(
            f"| `{n}` | {kind} | {_shape_text(s['shape'])} | {s['dtype']} |"
            for n, s in signature[f"{kind}s"].items()
        )

    tag = f"{name.lower()}-serving"  # Docker image names are lower case
    return f"""# {name}: TensorFlow Serving

`{name}/{version}/` is a SavedModel; TF Serving serves the highest version folder under
`{name}/` and picks up a new one while it runs.

## Signature `{SIGNATURE}`

| name | kind | shape | dtype |
|------|------|-------|-------|
{rows("input")}
{rows("output")}

`batch` is any number of examples. If the model was trained from a CSV file with text
(categorical) columns, send them one-hot encoded, as training did: one column per value, values in
sorted order, in the file's column order.

## Run it

```sh
docker run -p 8501:8501 -v "$PWD/{name}:/models/{name}" -e MODEL_NAME={name} tensorflow/serving
```

or `docker build -t {tag} . && docker run -p 8501:8501 {tag}` (`Dockerfile`),
or `docker compose up` (`compose.yaml`). `models.config` is a TF Serving model config for this
model; to serve several models, list them there and start the server with
`-v "$PWD:/models" tensorflow/serving --model_config_file=/models/models.config`.

## Ask it

`request.json` holds {"two examples" if examples > 1 else "one example"} from the parity batch,
one key per input:

```sh
curl -d @request.json -X POST http://localhost:8501/v1/models/{name}:predict
```

The answer is `{{"outputs": ...}}`: the values themselves for one output, an object keyed by
output name for several.

## How it was checked

The TF Serving server is not installable where this was exported (no PyPI or Debian package), so
the parity check ran the same `{SIGNATURE}` signature in TensorFlow, which is what the server
executes, and `saved_model_cli show --tag_set serve --signature_def {SIGNATURE}` confirmed
the signature's names. See `parity.json`.
"""
