"""The first non-finite value, named: replay the step a run diverged on, node by node.

How the step is kept (the trade-off): the model's train step is wrapped so that, before Keras runs
it, the batch and the weights are copied into variables on the same device (``StepStash``). That
costs one device-side copy of the weights and of the batch per step (no host transfer, no
synchronisation) and one more copy of the weights in memory. The alternatives were worse:
re-deriving the batch means replaying the shuffle of a tf.data pipeline (its seeds live in
TensorFlow's internals) and reading up to an epoch of data again, and the weights before the step
cannot be re-derived at all (the update with a NaN gradient overwrote them). The stash is on with
health sampling, on one device without XLA (a mirrored or compiled step cannot assign to
variables of unknown shape); elsewhere a diverged run says only which loss became non-finite.

When the run stops as diverged, ``replay`` restores the weights from before the step and runs
the batch again: the graph inputs, then every node's output in graph order, then the loss, then
the gradients from the head back. The first non-finite value found names the node, whether it was
its output or a gradient, and the rows of the batch that carry it (positions within that batch).
"""

from __future__ import annotations

from typing import Any

from layerloom.nodes.plan import BuildPlan


class StepStash:
    """The batch of the step in progress and the weights from before it, kept on the device."""

    def __init__(self, model: Any, element_spec: Any) -> None:
        import tensorflow as tf

        self.tf = tf
        self.structure = element_spec
        self.batch = [
            tf.Variable(tf.zeros([0] * max(spec.shape.rank or 0, 0), spec.dtype),
                        shape=tf.TensorShape(None), trainable=False)
            for spec in tf.nest.flatten(element_spec)
        ]  # fmt: skip
        self.weights = [w.value for w in model.weights]
        self.before = [tf.Variable(tf.identity(w), trainable=False) for w in self.weights]
        original = model.train_step

        def train_step(data: Any) -> Any:
            for slot, tensor in zip(self.batch, tf.nest.flatten(data), strict=True):
                slot.assign(tensor)
            for copy, weight in zip(self.before, self.weights, strict=True):
                copy.assign(weight)
            return original(data)  # tf.function keeps the copies before the step's updates

        model.train_step = train_step

    def restore(self) -> Any:
        """Put the weights from before the step back; the step's batch."""
        for weight, copy in zip(self.weights, self.before, strict=True):
            weight.assign(copy)
        return self.tf.nest.pack_sequence_as(self.structure, [v.value() for v in self.batch])


def make_stash(
    keras: Any, model: Any, data: Any, settings: dict[str, Any], devices: list[str]
) -> Any:
    """A ``StepStash`` on the model, or None where it cannot be kept (see the module docstring)."""
    if not settings.get("health", True) or keras.backend.backend() != "tensorflow":
        return None
    if len(devices) > 1 or settings.get("xla"):
        return None
    import tensorflow as tf

    spec = data.train.element_spec
    # Only dense numeric tensors are copied (not ragged, sparse or string inputs).
    flat = tf.nest.flatten(spec)
    if not all(type(item) is tf.TensorSpec and item.dtype != tf.string for item in flat):
        return None
    return StepStash(model, spec)


def _bad_rows(tf: Any, tensor: Any) -> list[int]:
    values = tf.cast(tensor, "float32") if tensor.dtype.is_floating else None
    if values is None:
        return []
    bad = tf.logical_not(tf.math.is_finite(values))
    if len(values.shape) > 1:
        bad = tf.reduce_any(tf.reshape(bad, [tf.shape(bad)[0], -1]), axis=1)
    else:
        bad = tf.reshape(bad, [-1])
    return [int(i) for i in tf.where(bad)[:, 0].numpy()]


def replay(
    keras: Any, model: Any, plan: BuildPlan, stash: StepStash, step: int
) -> dict[str, Any] | None:
    """``{"node", "where": "output"|"loss"|"gradient", "step", "rows"}`` for the first non-finite value
    of the kept step, or None when the replay stays finite (the loss diverged on another
    batch, e.g. a validation pass)."""
    tf = stash.tf
    data = stash.restore()
    x, y = (data[0], data[1]) if isinstance(data, tuple) and len(data) >= 2 else (data, None)
    names = [i.name for i in plan.inputs]
    inputs = dict(zip(names, keras.tree.flatten(x), strict=False))
    for name, tensor in inputs.items():
        rows = _bad_rows(tf, tensor)
        if rows:
            return {"node": plan.display(name), "where": "output", "step": step, "rows": rows}
    layers = {layer.name: layer for layer in model.layers}
    order = [layer.name for layer in plan.layers if layer.name in layers]
    probe = keras.Model(
        model.inputs, [keras.tree.flatten(layers[name].output)[0] for name in order]
    )
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([tensor for tensor in inputs.values() if tensor.dtype.is_floating])
        acts = probe(x, training=True)
        acts = list(acts) if isinstance(acts, (list, tuple)) else [acts]
        by_name = dict(zip(order, acts, strict=True))
        heads = [by_name[name] for name in plan.outputs]
        y_pred = heads[0] if len(heads) == 1 else heads
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True) if y is not None else None
    for name, act in by_name.items():
        rows = _bad_rows(tf, act)
        if rows:
            return {"node": plan.display(name), "where": "output", "step": step, "rows": rows}
    if loss is None:
        return None
    if not bool(tf.reduce_all(tf.math.is_finite(loss))):
        # Every node's output finite and the loss not: it overflowed computing the loss itself
        # (e.g. the square of a huge prediction), named after the output it was computed on.
        head = plan.display(plan.outputs[0]) if plan.outputs else "the model"
        return {"node": head, "where": "loss", "step": step, "rows": []}
    return _backward(tf, tape, loss, plan, by_name, inputs, layers, step)


def _backward(
    tf: Any, tape: Any, loss: Any, plan: BuildPlan, by_name: dict[str, Any],
    inputs: dict[str, Any], layers: dict[str, Any], step: int,
) -> dict[str, Any] | None:  # fmt: skip
    """From the head back: the first node whose gradient flowing out of it (into its inputs or
    its weights) is non-finite while the gradient arriving at its output is finite."""
    sources = {**inputs, **by_name}
    names = list(sources)
    grads = dict(zip(names, tape.gradient(loss, [sources[n] for n in names]), strict=True))
    for spec in reversed([layer for layer in plan.layers if layer.name in by_name]):
        arriving = grads.get(spec.name)
        if arriving is not None and _bad_rows(tf, arriving):
            # Non-finite already where it arrives: the loss's own gradient, at the head.
            return {
                "node": plan.display(spec.name), "where": "gradient", "step": step,
                "rows": _bad_rows(tf, arriving),
            }  # fmt: skip
        leaving = [grads.get(source) for _, source in spec.inputs]
        bad = [g for g in leaving if g is not None and _bad_rows(tf, g)]
        weights = layers[spec.name].trainable_weights
        weight_grads = tape.gradient(loss, [w.value for w in weights]) if weights else []
        broken = any(
            g is not None and not bool(tf.reduce_all(tf.math.is_finite(g))) for g in weight_grads
        )
        if bad or broken:
            rows = _bad_rows(tf, bad[0]) if bad else []
            return {
                "node": plan.display(spec.name),
                "where": "gradient",
                "step": step,
                "rows": rows,
            }
    return None


def explain(keras: Any, model: Any, plan: BuildPlan, stash: StepStash | None, log: Any) -> Any:
    """``replay`` for a diverged run, or None; a replay that fails only costs its log line (the
    run's own reason is reported either way)."""
    if stash is None:
        return None
    try:
        step = int(model.optimizer.iterations.numpy())
        return replay(keras, model, plan, stash, step)
    except Exception as error:  # a diagnosis must never hide the divergence it diagnoses
        log(f"could not replay the diverged step: {type(error).__name__}: {error}", "warning")
        return None
