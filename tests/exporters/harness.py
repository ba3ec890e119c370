"""The shared exporter harness: the graphs every target is held to, and one function that exports
a graph's model to a target in this process and returns the result with its parity report.

Graphs: the six templates, a multi-input/multi-output graph, a preprocessing chain, and one
"coverage" model per limit key that holds every layer type of the catalog (each spec's first
fully-shaped test case, as its own input -> layer -> output branch) except those the target refuses.
Models get deterministic random weights: parity is about the converter, not about training.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from layerloom.exporters.base import ExportContext
from layerloom.exporters.registry import default_exporters
from layerloom.exporters.run import ExportResult, run_export
from layerloom.exporters.samples import synthetic
from layerloom.nodes.compile import build_plan
from layerloom.nodes.export_capabilities import default_capabilities
from layerloom.nodes.graph import Graph
from layerloom.nodes.plan import BuildPlan, PlanInput, PlanLayer
from layerloom.nodes.registry import default_registry
from layerloom.nodes.templates import load_template
from tests.nodes.builders import add, link
from tests.nodes.cases import all_cases

TEMPLATES = (
    "mlp_classifier",
    "mlp_regressor",
    "small_cnn",
    "residual_cnn",
    "lstm_sequence",
    "transformer_encoder",
    "dense_autoencoder",
)


def template_plan(name: str) -> BuildPlan:
    registry = default_registry()
    return build_plan(load_template(name, registry), registry, name)


def multi_io_plan() -> BuildPlan:
    """Two Inputs (features and a small image) and two outputs (a class and a value)."""
    registry = default_registry()
    graph = Graph()
    features = add(graph, registry, "keras.Input", "features", shape=(8,))
    image = add(graph, registry, "keras.Input", "image", shape=(8, 8, 1))
    conv = add(graph, registry, "Conv2D", "conv", filters=4, kernel_size=(3, 3))
    link(graph, image, conv)
    pooled = add(graph, registry, "GlobalAveragePooling2D", "pooled")
    link(graph, conv, pooled)
    dense = add(graph, registry, "Dense", "dense", units=8, activation="relu")
    link(graph, features, dense)
    merged = add(graph, registry, "Concatenate", "merged")
    link(graph, dense, merged, "in0")
    link(graph, pooled, merged, "in1")
    kind = add(graph, registry, "Dense", "kind", units=3, activation="softmax")
    link(graph, merged, kind)
    value = add(graph, registry, "Dense", "value", units=1)
    link(graph, merged, value)
    return build_plan(graph, registry, "multi_io")


def preprocessing_plan() -> BuildPlan:
    """Image preprocessing and augmentation layers in front of a tiny classifier."""
    registry = default_registry()
    graph = Graph()
    chain = [
        add(graph, registry, "keras.Input", "image", shape=(20, 20, 3)),
        add(graph, registry, "Resizing", "resize", height=16, width=16),
        add(graph, registry, "CenterCrop", "crop", height=12, width=12),
        add(graph, registry, "RandomFlip", "flip"),
        add(graph, registry, "RandomContrast", "contrast", factor=0.2),
        add(graph, registry, "Rescaling", "rescale", scale=1 / 255),
        add(graph, registry, "Conv2D", "conv", filters=4, kernel_size=(3, 3), activation="relu"),
        add(graph, registry, "Flatten", "flat"),
        add(graph, registry, "Dense", "out", units=3, activation="softmax"),
    ]
    for src, dst in zip(chain, chain[1:], strict=False):
        link(graph, src, dst)
    return build_plan(graph, registry, "preprocessing")


def coverage_cases() -> list[tuple[str, str, dict[str, Any], list[tuple], Any]]:
    """(branch name, type_id, normalized params, input shapes, case) for every catalog case with
    fully known input shapes, plus an ``activation='exponential'`` variant of every layer with an
    activation (the one activation no runtime but Keras' spells the same)."""
    registry = default_registry()
    found = []
    for index, (type_id, cases) in enumerate(sorted(all_cases().items())):
        spec = registry[type_id]
        if spec.is_input or not spec.keras_class:
            continue  # placeholders (an imported layer without a spec) never compile or export
        usable = [
            c for c in cases if not c.error and all(d is not None for s in c.inputs for d in s)
        ]
        variants = [(c, spec.normalize(c.params)) for c in usable]
        if (
            usable
            and spec.category != "recurrent"
            and any(p.name == "activation" for p in spec.params)
        ):
            variants.append(
                (usable[0], spec.normalize({**usable[0].params, "activation": "exponential"}))
            )
        for number, (case, params) in enumerate(variants):
            # the first case keeps the plain name other tests quote
            name = f"n{index}_{spec.label.lower()}" + (f"_{number}" if number else "")
            found.append((name, type_id, params, [tuple(s) for s in case.inputs], case))
    return found


def key_in_play(key: str) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """(target, options, every limit key in play) for an export that brings in limit ``key``:
    TF Lite's int8 key comes with ``quantization=int8``, and with TF Lite's own key."""
    capabilities = default_capabilities()
    for declaration in capabilities.declarations():
        for limit_key in declaration.keys:
            if limit_key.key == key:
                options = {name: values[0] for name, values in limit_key.when.items()}
                return declaration.target, options, declaration.limit_keys(options)
    raise KeyError(key)


def coverage_plan(key: str) -> BuildPlan:
    """Every catalog case the limit ``key`` does not refuse (as its target declares), each on its
    own fully-shaped input: the half of ``test_capabilities``' walk that must convert and pass."""
    registry = default_registry()
    capabilities = default_capabilities()
    keys = key_in_play(key)[2]
    inputs: list[PlanInput] = []
    layers: list[PlanLayer] = []
    for name, type_id, params, shapes, case in coverage_cases():
        spec = registry[type_id]
        if any(capabilities.refusal(k, type_id, params, shapes) for k in keys):
            continue
        ports = case.ports or spec.input_ports(len(case.inputs))[: len(case.inputs)]
        sources = []
        for position, shape in enumerate(case.inputs):
            inputs.append(PlanInput(f"{name}_in{position}", list(shape), case.dtype))
            sources.append((ports[position], f"{name}_in{position}"))
        layers.append(
            PlanLayer(
                name,
                type_id,
                spec.keras_class or "",
                spec.to_keras_config(params),
                spec.call,
                sources,
            )
        )
    return BuildPlan(f"coverage_{key.replace('.', '_')}", inputs, layers, [x.name for x in layers])


def plan_named(name: str) -> BuildPlan:
    if name in TEMPLATES:
        return template_plan(name)
    if name.startswith("coverage:"):
        return coverage_plan(name.split(":", 1)[1])
    return {"multi_io": multi_io_plan, "preprocessing": preprocessing_plan}[name]()


@lru_cache(maxsize=32)
def _model(plan_json: str) -> Any:
    import json

    import keras

    from layerloom.nodes.keras_build import build_model

    keras.utils.set_random_seed(7)
    return build_model(BuildPlan.from_json(json.loads(plan_json)))


def model_for(plan: BuildPlan) -> Any:
    """The plan's model with deterministic random weights (cached: tests share it)."""
    import json

    return _model(json.dumps(plan.to_json(), sort_keys=True))


def classification_of(plan: BuildPlan) -> str:
    from layerloom.nodes.training import output_kind

    return "classification" if output_kind(plan) in ("multiclass", "binary") else "regression"


def run_exporter_case(
    target: str,
    plan: BuildPlan | str,
    out_dir: Path,
    options: dict[str, Any] | None = None,
    *,
    samples: int = 16,
    representative: int = 0,
    class_names: list[str] | None = None,
    weights_file: Path | None = None,
) -> ExportResult:
    """Export ``plan``'s model to ``target`` into ``out_dir`` (created) and check parity."""
    plan = plan_named(plan) if isinstance(plan, str) else plan
    exporter = default_exporters()[target]
    model = model_for(plan)
    out_dir.mkdir(parents=True, exist_ok=True)
    calibration = synthetic(plan, representative, seed=1) if representative else {}
    ctx = ExportContext(
        model=model,
        plan=plan,
        out_dir=out_dir,
        options=exporter.resolve_options(options or {}),
        sample=synthetic(plan, samples, seed=0),
        representative=[
            {name: batch[i : i + 1] for name, batch in calibration.items()}
            for i in range(representative)
        ],
        class_names=class_names,
        task=classification_of(plan),
        model_name=plan.name,
        weights_file=weights_file,
    )
    return run_export(exporter, ctx)
