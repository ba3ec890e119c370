"""Python script target: readable Keras code that rebuilds the model, plus its trained weights.

``model.py`` uses the functional API, one line per node, named after the node, with only the
arguments that differ from the layer's defaults (as MATLAB's Deep Network Designer and ENNUI offer
"export as code"). Parity imports the written file and runs it: the code is the artifact, so it is
what gets checked, not the model it came from.
"""

from __future__ import annotations

import builtins
import copy
import importlib.util
import inspect
import keyword
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.exporters.base import (
    TOLERANCE_OPTION,
    Artifact,
    ExportContext,
    Exporter,
    ExportError,
)
from layerloom.exporters.input_docs import input_section
from layerloom.exporters.keras_file import io_lines
from layerloom.exporters.plain_limits import PYTHON
from layerloom.exporters.run import keras_outputs
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan, PlanLayer

WIDTH = 100  # ruff's line length in this project, and a common default
SCRIPT = "model.py"
WEIGHTS = "model.weights.h5"
# Names the generated code itself uses, which no node variable may shadow.
RESERVED = {"keras", "Path", "build_model", "model", "weights"}
_MISSING = object()


# --- a small pretty printer: ruff-format's layout for calls, lists and tuples ------------------
@dataclass(frozen=True)
class Bracket:
    """``open items close``; each item is (prefix, expression), the prefix being ``"key="``."""

    open: str
    items: tuple[tuple[str, Expr], ...]
    close: str
    one_tuple: bool = False  # ``(8,)`` needs its comma


Expr = str | Bracket


def flat(expr: Expr) -> str:
    if isinstance(expr, str):
        return expr
    inner = ", ".join(prefix + flat(value) for prefix, value in expr.items)
    return expr.open + inner + ("," if expr.one_tuple else "") + expr.close


def render(expr: Expr, indent: int, used: int, after: int, explode: bool = False) -> str:
    """``expr`` starting at column ``used`` of a line indented by ``indent``, with ``after`` more
    characters behind it. Like ruff: one line if it fits, else the arguments on one indented line,
    else one per line with a trailing comma. ``explode`` forces the last form."""
    text = flat(expr)
    if isinstance(expr, str) or not expr.items:
        return text
    if not explode and used + len(text) + after <= WIDTH:
        return text
    pad = " " * (indent + 4)
    body = ", ".join(prefix + flat(value) for prefix, value in expr.items)
    if not explode and indent + 4 + len(body) <= WIDTH and not expr.one_tuple:
        lines = [pad + body]
    else:
        lines = [
            pad + prefix + render(value, indent + 4, indent + 4 + len(prefix), 1) + ","
            for prefix, value in expr.items
        ]
    return expr.open + "\n" + "\n".join(lines) + "\n" + " " * indent + expr.close


def call(func: str, kwargs: dict[str, Any] | list[tuple[str, Expr]]) -> Bracket:
    items = (
        kwargs if isinstance(kwargs, list) else [(f"{k}=", literal(v)) for k, v in kwargs.items()]
    )
    return Bracket(func + "(", tuple(items), ")")


# --- config values as code ----------------------------------------------------------------
def quote(text: str) -> str:
    """A string literal in double quotes, as ruff format writes it."""
    code = repr(text)
    if code.startswith("'") and '"' not in text:
        code = '"' + code[1:-1].replace("\\'", "'") + '"'
    return code


def literal(value: Any, data: bool = False) -> Expr:
    """Code for a config value: Python literals, and Keras objects as constructor calls (as plain
    dicts with ``data``)."""
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, float) and not np.isfinite(value):
        return f'float("{value}")'
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, tuple):
        items = tuple(("", literal(v, data)) for v in value)
        return Bracket("(", items, ")", one_tuple=len(items) == 1)
    if isinstance(value, list):
        return Bracket("[", tuple(("", literal(v, data)) for v in value), "]")
    if isinstance(value, dict):
        if _is_serialized(value) and not data:
            return keras_object(value)
        items = tuple((flat(literal(k)) + ": ", literal(v, data)) for k, v in value.items())
        return Bracket("{", items, "}")
    raise ExportError(f"a layer setting of type {type(value).__name__} cannot be written as code")


def keras_object(serialized: dict[str, Any]) -> Expr:
    """A serialized Keras object (a wrapped layer, an initializer...) as ``keras.x.Class(...)``."""
    path = f"{serialized['module']}.{serialized['class_name']}"
    cls = _resolve(path)
    if cls is None or serialized.get("registered_name") not in (None, serialized["class_name"]):
        # Not reachable by a public name (a custom object): Keras' own deserializer still reads it.
        return call("keras.saving.deserialize_keras_object", [("", literal(serialized, True))])
    # A wrapped layer's own name is generated ("simple_rnn_3"); the weights do not depend on it.
    return call(path, minimal_kwargs(cls, serialized["config"], drop=("name",)))


def _resolve(path: str) -> Any:
    keras = load_keras()
    parts = path.split(".")
    if parts[0] != "keras":
        return None
    target: Any = keras
    for part in parts[1:]:
        target = getattr(target, part, None)
    return target if inspect.isclass(target) else None


def _plain(value: Any, strict: bool = False) -> Any:
    """A config for comparing: arrays as lists, tuples as lists unless ``strict``, and no names of
    wrapped layers (a generated "simple_rnn_7" differs on every rebuild)."""
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(value, tuple) and strict:
        return tuple(_plain(v, strict) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v, strict) for v in value]
    if isinstance(value, dict):
        plain = {k: _plain(v, strict) for k, v in value.items()}
        if isinstance(plain.get("config"), dict) and "class_name" in plain:
            plain["config"].pop("name", None)
        return plain
    return value


def _is_serialized(value: Any) -> bool:
    # Keras' serialized form of an object made from a config dict (functions carry a string).
    keys = {"module", "class_name", "config"}
    return isinstance(value, dict) and keys <= set(value) and isinstance(value["config"], dict)


def minimal_kwargs(cls: type, given: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fewest ``given`` settings (``drop`` keys apart, never written) that make the object
    ``cls.from_config(given)`` makes, as ``nodes.keras_build`` does: required ones, and others only
    where they differ from a fresh object's defaults and do not follow from the rest (pooling's
    ``strides`` follow ``pool_size``). Candidates are made as the code makes them,
    ``cls(**kwargs)``, and compared on ``get_config``, so the result is checked. Values are in
    Keras' own form where it means the same: (3, 3), not the plan's JSON [3, 3]."""
    keras = load_keras()
    kept = {k: given[k] for k in drop if k in given}  # passed to the checks, never written
    settings = {k: v for k, v in given.items() if k not in drop}
    signature = inspect.signature(cls)
    required = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    missing = [name for name in required if name not in settings]
    if missing:
        raise ExportError(f"{cls.__name__}: its settings lack {', '.join(missing)}")

    def config_of(made: Any) -> dict[str, Any]:
        return {k: v for k, v in made.get_config().items() if k not in drop}

    def code_like(kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """The config of ``cls(**kwargs)``, nested objects made as the code makes them."""
        values = {
            k: keras.saving.deserialize_keras_object(copy.deepcopy(v)) if _is_serialized(v) else v
            for k, v in kwargs.items()
        }
        try:
            return config_of(cls(**kept, **values))
        except Exception:  # a combination Keras refuses is simply not the minimal one
            return None

    try:
        raw_goal = config_of(cls.from_config(copy.deepcopy(given)))
    except Exception as error:
        raise ExportError(f"{cls.__name__}: Keras refuses its settings: {error}") from error
    goal = _plain(raw_goal)
    # Keras' own form of a value where it means the same as the setting (tuples for shapes).
    settings = {
        k: raw_goal[k] if k in raw_goal and _plain(raw_goal[k]) == _plain(v) else v
        for k, v in settings.items()
    }
    default = _plain(code_like({k: settings[k] for k in required}) or {})
    keys = required + [
        k
        for k in settings
        if k not in required and (k not in goal or goal[k] != default.get(k, _MISSING))
    ]
    for key in [k for k in keys if k not in required]:
        trial = [k for k in keys if k != key]
        if _plain(code_like({k: settings[k] for k in trial})) == goal:
            keys = trial
    chosen = {k: settings[k] for k in keys}  # required first, in the signature's order
    if _plain(code_like(chosen), strict=True) != _plain(raw_goal, strict=True):
        raise ExportError(f"{cls.__name__}: its settings do not survive a rebuild from code")
    return chosen


# --- the script ---------------------------------------------------------------------------
_HEADER = '''"""The {name} model, rebuilt with the Keras functional API.

Generated by Layerloom for Keras {version}. ``python model.py`` builds the model, loads the
trained weights from model.weights.h5 next to this file (when present) and prints a summary;
``from model import build_model`` gives the model to your own code.
"""

from pathlib import Path

import keras
{imports}

def build_model() -> keras.Model:
'''
_MAIN = """

if __name__ == "__main__":
    model = build_model()
    weights = Path(__file__).with_name("model.weights.h5")
    if weights.exists():
        model.load_weights(weights)
        print(f"Loaded the trained weights from {weights.name}")
    model.summary()
"""


def outside_classes(plan: BuildPlan) -> dict[str, str]:
    """Short name -> module of the classes outside ``keras.layers`` (a dotted class name, such as
    ConvNeXt's ``keras.src.applications.convnext.LayerScale``): the script imports them by name,
    as Keras itself reaches them only through their module."""
    found: dict[str, str] = {}
    for step in plan.layers:
        module, _, short = step.class_name.rpartition(".")
        if module:
            if found.get(short, module) != module:
                raise ExportError(f"node '{step.name}': two classes named {short} in one script")
            found[short] = module
    return found


def _outside_class(class_name: str) -> Any:
    module, _, short = class_name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), short, None)
    except ImportError:
        return None


def variable_names(plan: BuildPlan) -> dict[str, str]:
    """Node and Input names as unique Python identifiers that shadow nothing the code uses."""
    names: dict[str, str] = {}
    reserved = RESERVED | set(outside_classes(plan))
    taken = set(reserved)
    for name in [i.name for i in plan.inputs] + [layer.name for layer in plan.layers]:
        base = re.sub(r"\W", "_", name) or "node"
        if base[0].isdigit():
            base = "n_" + base
        if keyword.iskeyword(base) or hasattr(builtins, base) or base in reserved:
            base += "_"
        candidate, count = base, 1
        while candidate in taken:
            count += 1
            candidate = f"{base}_{count}"
        taken.add(candidate)
        names[name] = candidate
    return names


def layer_line(variable: str, ctor: Bracket, applied: Bracket) -> str:
    """``variable = keras.layers.X(...)(inputs)``; when too long, the constructor gets one argument
    per line with a trailing comma, which ruff format keeps (the call on its closing line)."""
    lead = f"    {variable} = "
    text = lead + flat(ctor) + flat(applied)
    if len(text) <= WIDTH:
        return text
    tail = render(applied, 4, 5, 0)
    return lead + render(Bracket(ctor.open, ctor.items, ")" + tail), 4, len(lead), 0, explode=True)


def layer_code(step: PlanLayer, names: dict[str, str]) -> str:
    keras = load_keras()
    dotted = "." in step.class_name
    cls = (
        _outside_class(step.class_name) if dotted else getattr(keras.layers, step.class_name, None)
    )
    if not inspect.isclass(cls):
        where = "Keras has no" if dotted else "keras.layers has no"
        raise ExportError(f"node '{step.name}': {where} {step.class_name}")
    # The plan's own settings (what the user set, e.g. factor=0.2 rather than Keras' (0, 0.2)), on an
    # unbuilt layer: building adds noise such as LayerNormalization's axis=[-1].
    kwargs = minimal_kwargs(cls, {**step.config, "name": step.name}, drop=("name",))
    # An outside class is imported at the top of the script and called by its short name.
    written = step.class_name.rpartition(".")[2] if dotted else f"keras.layers.{step.class_name}"
    ctor = call(written, {**kwargs, "name": step.name})
    sources = [(port, names[source]) for port, source in step.inputs]
    if step.call == "single":
        applied = Bracket("(", (("", sources[0][1]),), ")")
    elif step.call == "list":
        applied = Bracket("(", (("", Bracket("[", tuple(("", s) for _, s in sources), "]")),), ")")
    elif step.call == "kwargs":
        applied = Bracket("(", tuple((f"{port}=", s) for port, s in sources), ")")
    else:
        raise ExportError(f"node '{step.name}': unknown call style {step.call!r}")
    return layer_line(names[step.name], ctor, applied)


def generate_script(plan: BuildPlan) -> str:
    """The source of ``model.py``: ``plan`` as Keras functional-API code."""
    keras = load_keras()
    names = variable_names(plan)
    body = ["    # Inputs: one per Input node; the batch dimension is left out."]
    for item in plan.inputs:
        shape = tuple(item.shape)
        ctor = call("keras.Input", {"shape": shape, "dtype": item.dtype, "name": item.name})
        lead = f"    {names[item.name]} = "
        body.append(lead + render(ctor, 4, len(lead), 0))
    body += ["", "    # Layers, in the order the graph computes them."]
    body += [layer_code(step, names) for step in plan.layers]

    def tensors(items: list[str]) -> Bracket:
        return Bracket("[", tuple(("", names[n]) for n in items), "]")

    # Lists even for one tensor, as Layerloom builds it: the same model, the same output structure.
    ctor = call(
        "keras.Model",
        [
            ("inputs=", tensors([i.name for i in plan.inputs])),
            ("outputs=", tensors(plan.outputs)),
            ("name=", quote(plan.name)),
        ],
    )
    body += ["", "    return " + render(ctor, 4, 11, 0)]
    title = re.sub(r'["\\]', "'", plan.name)  # inside the docstring
    by_module: dict[str, list[str]] = {}
    for short, module in sorted(outside_classes(plan).items()):
        by_module.setdefault(module, []).append(short)
    imports = "".join(  # as ruff's isort writes them: one line per module, both sorted
        f"from {module} import {', '.join(shorts)}\n"
        for module, shorts in sorted(by_module.items())
    )
    header = _HEADER.format(name=title, version=keras.__version__, imports=imports)
    return header + "\n".join(body) + "\n" + _MAIN


def import_script(path: Path) -> Any:
    """The generated file as a module, under a name of its own (never cached ``model``)."""
    name = f"layerloom_generated_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ExportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme(ctx: ExportContext) -> str:
    lines = [
        f"# {ctx.plan.name}: the model as a Python script",
        "",
        f"`{SCRIPT}` rebuilds the model with the Keras functional API, one line per node;",
        f"`{WEIGHTS}` holds the trained weights. Needs Keras 3 with a backend (TensorFlow).",
        "",
        "```",
        f"python {SCRIPT}    # builds the model, loads the weights, prints a summary",
        "```",
        "",
        "```python",
        "from model import build_model",
        "",
        "model = build_model()",
        f'model.load_weights("{WEIGHTS}")',
        "predictions = model.predict(inputs)",
        "```",
        "",
        "Edit the script freely: the weights load into any model with the same layers in the same",
        "order and the same weight shapes.",
        "",
        *io_lines(ctx),
        "",
        input_section(ctx).rstrip("\n"),
    ]
    return "\n".join(lines) + "\n"


class PythonScriptExporter(Exporter):
    target = "python"
    limits = PYTHON
    title = "Python script"
    summary = "Readable Keras code that rebuilds the model, with its trained weights"
    options = (TOLERANCE_OPTION,)
    requires = ("keras",)

    def export(self, ctx: ExportContext) -> Artifact:
        keras = load_keras()
        ctx.progress(f"writing {SCRIPT}")
        source = generate_script(ctx.plan)
        try:
            compile(source, SCRIPT, "exec")  # a generator bug fails here, not in the user's hands
        except SyntaxError as error:
            raise ExportError(f"the generated {SCRIPT} does not parse: {error}") from error
        script = ctx.out_dir / SCRIPT
        script.write_text(source, encoding="utf-8")
        weights = ctx.out_dir / WEIGHTS
        ctx.progress(f"writing {WEIGHTS}")
        if ctx.weights_file is not None:
            shutil.copyfile(ctx.weights_file, weights)
        else:
            ctx.model.save_weights(weights)
        readme = ctx.out_dir / "README.md"
        readme.write_text(_readme(ctx), encoding="utf-8")
        return Artifact(
            [script, weights, readme],
            runtime=f"generated Keras script (Keras {keras.__version__})",
            details={"lines": source.count("\n"), "layers": len(ctx.plan.layers)},
        )

    def predict(self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]) -> list[Any]:
        if artifact.handle is None:
            ctx.progress(f"running {SCRIPT}: build_model() and load_weights()")
            module = import_script(artifact.files[0])
            model = module.build_model()
            model.load_weights(artifact.files[1])
            artifact.handle = model
        return keras_outputs(artifact.handle, inputs)
