"""TF Serving: a versioned SavedModel folder (``<name>/<version>/``) with a named signature.

The ``serving_default`` signature takes one tensor per Input node and returns a dict keyed by the
output nodes' names, so a REST request names what it feeds and a response names what it got; the
batch dimension stays open. Next to the model go a TF Serving model config, an example request
holding one real example with the answer the model gives to it, a README and Docker files. The
server binary cannot be installed here, so parity runs the same signature in TensorFlow, which is
what the server executes, and ``saved_model_cli`` proves the signature is what a server will see.
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
from layerloom.exporters.input_docs import expected_line, input_section
from layerloom.exporters.plain_limits import SERVING
from layerloom.exporters.text_formats import markdown
from layerloom.nodes.params import Int, Str
from layerloom.nodes.plan import BuildPlan

SIGNATURE = "serving_default"
# TF Serving puts the name in URLs and folder names: keep it to what is safe in both.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# The expected answer is shown in the README up to this many characters (a reconstruction's is
# as big as its input); it is always in ``expected_response.json``.
_SHOWN_ANSWER = 2_000
REQUEST_FILE = "request.json"
EXPECTED_FILE = "expected_response.json"


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
        files += self._write_extras(ctx, name, version, signature, loaded)
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
        self, ctx: ExportContext, name: str, version: int, signature: dict[str, Any], loaded: Any
    ) -> list[Path]:
        out = ctx.out_dir
        example = {item.name: ctx.sample[item.name][:1] for item in ctx.plan.inputs}
        # What the server answers to request.json: the saved signature itself, run on it now.
        outputs = self.predict(Artifact([], "", handle=loaded), ctx, example)
        answer = expected_response(outputs, ctx)
        written = {
            "models.config": models_config(name),
            REQUEST_FILE: example_request(ctx, example),
            EXPECTED_FILE: answer,
            "README.md": readme(
                name,
                version,
                signature,
                input_section(ctx),
                answer,
                expected_words(ctx, outputs),
            ),
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


def _instance(ctx: ExportContext, example: dict[str, np.ndarray]) -> Any:
    values = {
        item.name: compact_rows(np.asarray(example[item.name], dtype=item.dtype))[0]
        for item in ctx.plan.inputs
    }
    return values if len(values) > 1 else next(iter(values.values()))


def example_request(ctx: ExportContext, example: dict[str, np.ndarray]) -> str:
    """A REST predict body in the row form, ``{"instances": [...]}``, holding one real example
    (the parity batch's first: the validation split's first example, prepared as the Input
    section says); several Inputs make the instance an object keyed by Input name."""
    return json.dumps({"instances": [_instance(ctx, example)]}, separators=(",", ":")) + "\n"


def expected_response(outputs: list[np.ndarray], ctx: ExportContext) -> str:
    """The answer TF Serving gives to the row-form request: ``{"predictions": [...]}``, one
    output's values as they are, several outputs as an object keyed by output name."""
    rows = {
        name: compact_rows(np.asarray(values, dtype=np.float32))[0]
        for name, values in zip(ctx.plan.outputs, outputs, strict=True)
    }
    row = rows if len(rows) > 1 else next(iter(rows.values()))
    return json.dumps({"predictions": [row]}, separators=(",", ":")) + "\n"


def expected_words(ctx: ExportContext, outputs: list[np.ndarray]) -> str:
    """What the first output's answer means, for the README (classification only)."""
    if not ctx.classification or not outputs:
        return ""
    meaning = expected_line(ctx.class_names, outputs[0][0])
    return f"For {markdown(ctx.plan.outputs[0])} that is {meaning}."


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


def readme(
    name: str,
    version: int,
    signature: dict[str, Any],
    input_words: str,
    answer: str,
    meaning: str,
) -> str:
    def rows(kind: str) -> str:
        return "\n".join(
            f"| `{n}` | {kind} | {_shape_text(s['shape'])} | {s['dtype']} |"
            for n, s in signature[f"{kind}s"].items()
        )

    tag = f"{name.lower()}-serving"  # Docker image names are lower case
    shown = (
        f"```json\n{answer.strip()}\n```"
        if len(answer) <= _SHOWN_ANSWER
        else f"(too long to show here: {len(answer):,} characters)"
    )
    return f"""# {name}: TensorFlow Serving

`{name}/{version}/` is a SavedModel; TF Serving serves the highest version folder under
`{name}/` and picks up a new one while it runs.

## Signature `{SIGNATURE}`

| name | kind | shape | dtype |
|------|------|-------|-------|
{rows("input")}
{rows("output")}

`batch` is any number of examples.

{input_words}
## Run it

```sh
docker run -p 8501:8501 -v "$PWD/{name}:/models/{name}" -e MODEL_NAME={name} tensorflow/serving
```

or `docker build -t {tag} . && docker run -p 8501:8501 {tag}` (`Dockerfile`),
or `docker compose up` (`compose.yaml`). `models.config` is a TF Serving model config for this
model; to serve several models, list them there and start the server with
`-v "$PWD:/models" tensorflow/serving --model_config_file=/models/models.config`.

## Ask it

`{REQUEST_FILE}` holds one real example of the data (the first of the validation split, prepared as
the Input section says; random values of the right shape when the project had no data), in the
row form, `{{"instances": [...]}}`:

```sh
curl -d @{REQUEST_FILE} -X POST http://localhost:8501/v1/models/{name}:predict
```

The expected answer (`{EXPECTED_FILE}`), computed from this SavedModel's `{SIGNATURE}`
signature on that request:

{shown}

{meaning}
Each prediction is the values themselves for one output, an object keyed by output name for
several.

## How it was checked

The TF Serving server is not installable where this was exported (no PyPI or Debian package), so
the parity check ran the same `{SIGNATURE}` signature in TensorFlow, which is what the server
executes, and `saved_model_cli show --tag_set serve --signature_def {SIGNATURE}` confirmed
the signature's names. See `parity.json`.
"""
