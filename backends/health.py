"""Training health inside the worker: per-node figures on a fixed sample batch, every few steps.

Every ``health_every`` steps (0, the default: automatically, so sampling costs at most ~2 % of the
training time, see ``Schedule``) one TensorFlow function runs the model on a small fixed batch of
training samples (the first ``SAMPLE_ROWS`` of the training split, read without touching the training
pipeline's shuffle) and returns, per node: the gradient and weight norms, the update-to-weight
ratio since the previous sample (per step), the activation mean and std, and the dead (ReLU-like)
and saturated (sigmoid/tanh) fractions of its units. They go out as one ``health`` event.

The forward pass runs with ``training=False``: the sample must not move BatchNormalization's
moving statistics (that would change the training) and dropout would only add noise.

Only the TensorFlow backend samples; under JAX the worker logs one line and trains without it.
TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import math
import time
from typing import Any

from layerloom.backends.protocol import EventWriter, Job
from layerloom.nodes.plan import BuildPlan

SAMPLE_ROWS = 32
AUTO_MIN_STEPS = 10  # auto: at least this many steps between samples
AUTO_BUDGET = 0.02  # auto: the share of training time sampling may take (the rest of the 5 %
# target is left to the per-step copy of backends.nan_replay and to recording the events)
# Auto: the first sample's expected seconds, which decides when it comes (~2.5 s into training).
# It really costs more (~0.25 s on a 2-core CPU: reading the sample batch, building the probe, the
# eager ops' first calls) and that is counted: the next samples wait until the budget allows.
AUTO_FIRST_COST = 0.05

RELU_LIKE = frozenset({"relu", "relu6"})
# Activation name -> (low, high): a unit is saturated within 1 % of the range from a limit.
SATURATING = {"sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
NEAR = 0.01
SATURATED_SHARE = 0.9  # a unit counts as saturated when this share of its outputs is near a limit


def _activation_name(layer: Any) -> str | None:
    """'relu', 'sigmoid', ... for a layer whose output is an activation's; None otherwise."""
    if type(layer).__name__ == "ReLU":
        slope = getattr(layer, "negative_slope", 0.0)
        return "relu" if not slope and getattr(layer, "threshold", 0.0) == 0.0 else None
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) if callable(activation) else None


def sample_batch(job: Job, plan: BuildPlan, data: Any) -> tuple[Any, Any] | None:
    """The first ``SAMPLE_ROWS`` training samples as one (x, y) batch of tensors, or None.

    Built from the data source, not by iterating ``data.train``: a new iterator of the training
    pipeline would advance its shuffle and change the order the run trains in."""
    from layerloom.nodes.datasets import open_source

    source = open_source(job.dataset, job.base_dir)
    indices = source.split_indices().get("train")
    if indices is None or len(indices) == 0:
        return None
    info = getattr(data, "info", None) or source.check(plan)
    dataset = source.elements(indices[:SAMPLE_ROWS], plan, info)
    decode = source.decoder(plan, info)
    if decode is not None:
        dataset = dataset.map(decode)
    element = next(iter(dataset.batch(SAMPLE_ROWS)))
    if not isinstance(element, tuple) or len(element) < 2:
        return None
    return element[0], element[1]


class HealthProbe:
    """The function that measures every node on the sample batch: compiled (its tracing costs
    0.3-1 s once, then ~1 ms a sample) or eager (no tracing, ~10-20 ms a sample on small models)."""

    def __init__(self, keras: Any, model: Any, plan: BuildPlan, sample: tuple[Any, Any]) -> None:
        import tensorflow as tf

        self.x, self.y = sample
        self.layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
        self.names = [plan.display(layer.name) for layer in self.layers]
        outputs = [keras.tree.flatten(layer.output)[0] for layer in self.layers]
        self.probe = keras.Model(model.inputs, outputs)
        index = {layer.name: i for i, layer in enumerate(self.layers)}
        heads = [index[name] for name in plan.outputs]
        self.weights = [[w.value for w in layer.trainable_weights] for layer in self.layers]
        self.previous = [
            [tf.Variable(tf.identity(v), trainable=False) for v in group] for group in self.weights
        ]
        kinds = [_activation_name(layer) for layer in self.layers]
        model_ref = model

        def measure(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                acts = self.probe(x, training=False)
                acts = acts if isinstance(acts, (list, tuple)) else [acts]
                y_pred = acts[heads[0]] if len(heads) == 1 else [acts[i] for i in heads]
                loss = model_ref.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
            flat = [v for group in self.weights for v in group]
            grads = tape.gradient(loss, flat) if flat else []
            grads = iter(grads)
            out = []
            for group, previous, act, kind in zip(
                self.weights, self.previous, acts, kinds, strict=True
            ):
                out.append(
                    _node_figures(tf, group, previous, [next(grads) for _ in group], act, kind)
                )
            return out

        self.eager = measure
        self.compiled = tf.function(measure, reduce_retracing=True)

    def __call__(self, compiled: bool) -> list[dict[str, float | None]]:
        raw = (self.compiled if compiled else self.eager)(self.x, self.y)
        return [{k: (None if v is None else float(v)) for k, v in node.items()} for node in raw]


def _norm(tf: Any, tensors: list[Any]) -> Any:
    return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(tf.cast(t, "float32"))) for t in tensors]))


def _node_figures(
    tf: Any, weights: list[Any], previous: list[Any], grads: list[Any], act: Any, kind: str | None
) -> dict[str, Any]:
    """One node's figures as scalar tensors (None where a figure does not apply)."""
    out: dict[str, Any] = dict.fromkeys(
        ("grad_norm", "weight_norm", "update_ratio", "activation_mean", "activation_std",
         "dead_fraction", "saturated_fraction"))  # fmt: skip
    present = [g for g in grads if g is not None]
    if weights:
        out["weight_norm"] = _norm(tf, weights)
        out["grad_norm"] = _norm(tf, present) if present else None
        # |W - W_prev| before the copy is refreshed: control dependencies keep that order.
        out["update_ratio"] = _norm(tf, [w - p for w, p in zip(weights, previous, strict=True)])
        with tf.control_dependencies([out["update_ratio"]]):
            for w, p in zip(weights, previous, strict=True):
                p.assign(w)
    if not act.dtype.is_floating:
        return out
    values = tf.cast(act, "float32")
    out["activation_mean"] = tf.reduce_mean(values)
    out["activation_std"] = tf.math.reduce_std(values)
    # Units are the last axis; "over the whole batch" is every other axis (rows, positions).
    axes = list(range(len(act.shape) - 1)) or [0]
    per_unit = values if len(act.shape) > 1 else tf.reshape(values, [-1, 1])
    if kind in RELU_LIKE:
        # NaN is not <= 0: a unit with non-finite outputs is broken, not dead.
        dead = tf.reduce_all(per_unit <= 0.0, axis=axes)
        out["dead_fraction"] = tf.reduce_mean(tf.cast(dead, "float32"))
    elif kind in SATURATING:
        low, high = SATURATING[kind]
        margin = NEAR * (high - low)
        near = tf.logical_or(per_unit < low + margin, per_unit > high - margin)
        share = tf.reduce_mean(tf.cast(near, "float32"), axis=axes)
        out["saturated_fraction"] = tf.reduce_mean(tf.cast(share >= SATURATED_SHARE, "float32"))
    return out


class Schedule:
    """When to sample. ``every`` > 0: every that many steps, with the compiled probe (its one-time
    tracing is worth it at that rate). 0, automatic: with the eager probe (no tracing), whenever the
    time spent sampling so far plus the next sample's expected cost stays within ``AUTO_BUDGET``
    of the training time so far, and at least ``AUTO_MIN_STEPS`` steps apart. A run that ends
    before it could afford one sample takes one at its end: health always says something."""

    def __init__(self, every: int, clock: Any = time.perf_counter) -> None:
        self.every = every
        self.clock = clock
        self.started = clock()
        self.spent = 0.0  # seconds spent sampling
        self.cost = AUTO_FIRST_COST  # the last sample's seconds: what the next is expected to take
        self.samples = 0

    @property
    def compiled(self) -> bool:
        return self.every > 0

    def affordable(self) -> bool:
        return self.spent + self.cost <= AUTO_BUDGET * (self.clock() - self.started)

    def due(self, steps_since: int | None) -> bool:
        """Whether to sample after a step (``steps_since``: since the last sample, None before
        the first)."""
        if self.every:
            return steps_since is None or steps_since >= self.every
        return (steps_since is None or steps_since >= AUTO_MIN_STEPS) and self.affordable()

    def took(self, seconds: float) -> None:
        # The first sample also builds the probe and creates each op's kernel (once): it says
        # little of what the next sample costs, so only a later one sets the estimate in full.
        self.cost = seconds if self.samples else min(seconds, 0.2 * self.cost)
        self.spent += seconds
        self.samples += 1


def make_sampler(
    keras: Any, model: Any, plan: BuildPlan, job: Job, data: Any, writer: EventWriter, state: Any
) -> Any:
    """The Keras callback that samples health, or None (health off, or not possible here)."""
    settings = job.settings
    if not settings.get("health", True):
        return None
    if keras.backend.backend() != "tensorflow":
        writer.log("training health is sampled on the TensorFlow backend only; not on this run")
        return None
    every = int(settings.get("health_every", 0))
    initial_step = int(state["initial_step"])

    class Health(keras.callbacks.Callback):
        # TensorFlow runs batch callbacks on the main thread, between steps.
        def __init__(self) -> None:
            super().__init__()
            self.step = initial_step
            self.epoch = int(state["initial_epoch"])
            self.last_step: int | None = None
            self.broken = False
            self.schedule = Schedule(every)
            self.probe: HealthProbe | None = None  # built at the first sample, inside its cost

        def on_train_begin(self, logs: Any = None) -> None:
            self.schedule = Schedule(every)  # the budget counts training time, not set-up

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch

        def _since(self) -> int | None:
            return None if self.last_step is None else self.step - self.last_step

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.step += 1
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.broken = True  # the run stops as diverged; NaN weights measure nothing
            if not self.broken and self.schedule.due(self._since()):
                self.sample()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if self.broken or self.last_step == self.step:
                return
            if self.schedule.compiled or self.schedule.affordable():
                self.sample()

        def on_train_end(self, logs: Any = None) -> None:
            if not self.broken and self.last_step is None:
                self.sample()

        def sample(self) -> None:
            begin = time.perf_counter()
            try:
                if self.probe is None:
                    sample = sample_batch(job, plan, data)
                    if sample is None:  # no training rows to measure on
                        self.broken = True
                        return
                    self.probe = HealthProbe(keras, model, plan, sample)
                probe = self.probe
                figures = probe(self.schedule.compiled)
            except Exception as error:  # a diagnosis must never stop the training it watches
                self.broken = True
                writer.log(
                    f"training health is off for this run: {type(error).__name__}: {error}",
                    "warning",
                )
                return
            steps = self._since() or 0
            nodes = {}
            for name, node in zip(probe.names, figures, strict=True):
                ratio, size = node["update_ratio"], node["weight_norm"]
                # The first sample has nothing to compare with; a zero-size weight has no ratio.
                node["update_ratio"] = (
                    ratio / size / steps if ratio is not None and steps and size else None
                )
                nodes[name] = node
            writer.emit("health", epoch=self.epoch + 1, global_step=self.step, nodes=nodes)
            self.last_step = self.step
            self.schedule.took(time.perf_counter() - begin)

    return Health()
