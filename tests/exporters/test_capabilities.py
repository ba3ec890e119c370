"""Every registered node spec x every export target: what the targets declare (the editor's badge
and the export's up-front refusal, ``nodes.export_capabilities``) holds against the real converter
and the real runtime.

The walk runs over ``harness.coverage_cases()``: every spec's fully-shaped cases, plus an
``activation='exponential'`` variant of every layer with an activation. Its accepted half is the
coverage models (``coverage:KEY``, one model per limit key with every case that key accepts), which
``test_tflite``, ``test_tfjs``, ``test_onnx``, ``test_serving``, ``test_keras_file`` and
``test_python_script`` convert and hold to parity. Its refused half is here: every case a
declaration refuses must really fail, the converter refusing it or its parity failing.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from layerloom.exporters.base import ExportError
from layerloom.exporters.registry import default_exporters
from layerloom.nodes.export_capabilities import default_capabilities
from layerloom.nodes.plan import BuildPlan, PlanInput, PlanLayer
from layerloom.nodes.registry import default_registry
from tests.exporters.harness import coverage_cases, key_in_play, run_exporter_case
from tests.nodes.cases import all_cases

# The limit keys whose coverage model the target's own test file converts (``coverage:KEY``).
COVERAGE_TESTS = {
    "tflite": "test_tflite.py",
    "tflite.int8": "test_tflite.py",
    "micro": "test_micro.py",
    "tfjs": "test_tfjs.py",
    "serving": "test_serving.py",
    "onnx": "test_onnx.py",
    "keras": "test_keras_file.py",
    "python": "test_python_script.py",
}


def refused_cases() -> list[tuple[str, str, str]]:
    """(limit key, branch name, reason) for every case of the walk a declaration refuses."""
    capabilities = default_capabilities()
    found = []
    seen: set[tuple[str, str]] = set()
    for key in capabilities.keys():
        for name, type_id, params, shapes, _ in coverage_cases():
            reason = capabilities.refusal(key, type_id, params, shapes)
            # A rule one target shares with another (TF Lite Micro takes TF Lite's) gives the same
            # reason for the same case: proven once, under the key that declares it first.
            if reason and (name, reason) not in seen:
                seen.add((name, reason))
                found.append((key, name, reason))
    return found


def single_plan(branch: str) -> BuildPlan:
    """A model of the one case named ``branch`` (as ``coverage_plan`` builds it)."""
    registry = default_registry()
    name, type_id, params, _, case = next(c for c in coverage_cases() if c[0] == branch)
    spec = registry[type_id]
    ports = case.ports or spec.input_ports(len(case.inputs))[: len(case.inputs)]
    inputs = [PlanInput(f"{name}_in{i}", list(s), case.dtype) for i, s in enumerate(case.inputs)]
    layer = PlanLayer(
        name,
        type_id,
        spec.keras_class or "",
        spec.to_keras_config(params),
        spec.call,
        [(ports[i], item.name) for i, item in enumerate(inputs)],
    )
    return BuildPlan(f"refused_{name}", inputs, [layer], [name])


def test_the_walk_visits_every_spec_under_every_key() -> None:
    capabilities = default_capabilities()
    visited = {type_id for _, type_id, *_ in coverage_cases()}
    registry = default_registry()
    layers = {spec.type_id for spec in registry if not spec.is_input}
    # Placeholders (an imported layer without a spec) never compile or export: the walk skips them.
    exported = {type_id for type_id in layers if registry[type_id].keras_class}
    assert exported - visited == set(), "specs without a fully-shaped case escape the walk"
    assert set(all_cases()) >= layers
    # every declared key has its accepted half converted by its target's test file
    assert set(capabilities.keys()) == set(COVERAGE_TESTS)
    here = Path(__file__).parent
    for key, test_file in COVERAGE_TESTS.items():
        assert f'"coverage:{key}"' in (here / test_file).read_text(encoding="utf-8"), key
    # and every registered exporter is among the declared targets
    targets = {d.target for d in capabilities.declarations()}
    assert {exporter.target for exporter in default_exporters()} <= targets


def test_the_walk_refuses_what_the_drift_let_through() -> None:
    """DepthwiseConv2D(activation='exponential') once had no badge for TF.js, which refuses it."""
    refused = [(key, name) for key, name, _ in refused_cases() if "depthwiseconv2d" in name]
    # (TF Lite Micro refuses it too: it has no int8 EXP kernel)
    assert refused and {key for key, _ in refused} == {"tfjs", "micro"}


def outcome(key: str, branch: str, out_dir: str) -> str:
    """Export the one case to the target that brings ``key`` in: "refused: ...", "failed: ..."
    (parity) or "passed"."""
    target, options, _ = key_in_play(key)
    exporter = default_exporters()[target]
    calibrated = exporter.needs_calibration(exporter.resolve_options(options)) is not None
    try:
        result = run_exporter_case(
            target,
            single_plan(branch),
            Path(out_dir),
            options,
            samples=8,
            representative=8 * calibrated,
        )
    except ExportError as error:
        return f"refused: {error}"
    return "passed" if result.passed else f"failed: {result.parity.get('reason')}"


@pytest.mark.keras
@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow")
@pytest.mark.parametrize(
    ("key", "branch", "reason"), refused_cases(), ids=lambda v: str(v)[:40].replace(" ", "_")
)
def test_a_refused_case_really_fails(tmp_path, key, branch, reason) -> None:
    """In a child process, as the export worker runs converters: some refused cases crash the
    runtime natively (LiteRT aborts on int8 one-channel groups), which is a failure too."""
    missing = default_exporters()[key_in_play(key)[0]].unavailable()
    if missing:
        pytest.skip(missing)
    code = (
        "import sys\n"
        "from tests.exporters.test_capabilities import outcome\n"
        "print('OUTCOME', outcome(*sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, key, branch, str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )
    said = [line for line in done.stdout.splitlines() if line.startswith("OUTCOME ")]
    if done.returncode != 0:
        assert not said and done.returncode < 0 or "Fatal Python error" in done.stderr, done.stderr
        return  # crashed natively in the converter or the runtime
    assert said, done.stderr
    result = said[0].removeprefix("OUTCOME ")
    assert result != "passed", f"{key} declares '{reason}', yet {branch} converts and passes"
    if result.startswith("refused"):
        assert branch in result
