"""Training inside the worker: strategy, model, optimizer, ``model.fit`` and the event callback.

Imported only by ``backends.worker`` after the job is read (TensorFlow loads here). The callback is
kept cheap: on a step that is not due for an event it only does integer arithmetic, so it adds no
synchronisation to what Keras already does (with the TensorFlow backend, Keras converts each
batch's logs to Python numbers whether or not a callback reads them). It declares itself
``async_safe`` so that backends with threaded callback dispatch (JAX) keep it off the hot path;
its shared state is locked for that reason.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from layerloom.backends import health, nan_replay
from layerloom.backends.adapt_layers import adapt_normalizations
from layerloom.backends.checkpoints import Checkpointer, Diverged, restore_checkpoint
from layerloom.backends.job_control import CRASH_HOOK
from layerloom.backends.keras_common import (
    build_compiled_model,
    choose_strategy,
    device_facts,
    open_data,
)
from layerloom.backends.protocol import EventWriter, Job
from layerloom.backends.warm_start import load_initial_weights
from layerloom.nodes.errors import DatasetError, LayerloomError
from layerloom.nodes.health import nonfinite_sentence
from layerloom.nodes.keras_runtime import load_keras
from layerloom.nodes.plan import BuildPlan


class Cancelled(Exception):
    """Raised between batches after SIGINT/SIGTERM: fit stops without a validation pass."""


def _scalar(value: Any) -> float:
    return float(value.numpy() if hasattr(value, "numpy") else value)


def _non_finite(metrics: dict[str, Any]) -> str | None:
    """The first metric that is NaN or infinite, as words ("loss became nan"), or None."""
    for name, value in metrics.items():
        if isinstance(value, (int, float)) and not math.isfinite(value):
            return f"{name} became {value}"
    return None


def make_progress(keras: Any, state: dict[str, Any], writer: EventWriter, stop: Any) -> Any:
    """The Keras callback that turns training into events and checkpoints."""
    settings = state["settings"]
    every = int(settings["batch_event_every"])
    batch_size = int(settings["batch_size"])
    checkpoints = Checkpointer(
        writer, Path(state["job_dir"]), float(settings["checkpoint_seconds"])
    )
    crash_after = int(os.environ.get(CRASH_HOOK, "0") or 0)  # a test hook: see backends.worker
    agree_stop = state.get("agree_stop")  # a pod's processes decide a stop together

    class Progress(keras.callbacks.Callback):
        # Batch ends may run on a Keras thread pool (JAX backend); not on a pod, where reading
        # the logs off the main thread would run collectives out of order and deadlock.
        async_safe = agree_stop is None

        def __init__(self) -> None:
            super().__init__()
            self.lock = threading.Lock()
            self.stopped = False
            self.batches_run = 0
            self.epoch = state["initial_epoch"]  # epochs completed
            self.step_base = state["initial_step"]
            self.best: float | None = None
            self.best_epoch: int | None = None
            self.last_logs: dict[str, float] = {}
            self.checkpoints = checkpoints
            # Set where a batch's loss is first seen non-finite (maybe on a Keras thread); raised
            # on the main thread before the next batch.
            self.diverged: Diverged | None = None

        def _lr(self) -> float:
            return _scalar(self.model.optimizer.learning_rate)

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch_start = time.perf_counter()
            self.mark = (0, self.epoch_start)
            self.step_base = int(_scalar(self.model.optimizer.iterations))

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            # Main thread, between batches: the one safe place to stop or to simulate a crash.
            if agree_stop is None:
                if stop.requested:
                    raise Cancelled()
            elif batch % every == 0 and agree_stop(stop.requested):
                raise Cancelled()  # every process of the pod stops at this same step
            if self.diverged is not None:
                raise self.diverged
            if crash_after and self.batches_run >= crash_after:
                os.kill(os.getpid(), signal.SIGSEGV)
            self.batches_run += 1

        def on_test_batch_begin(self, batch: int, logs: Any = None) -> None:
            # A long validation pass must not hold up a cancel (one process of a pod stopping
            # alone would leave the others waiting in a collective: they stop at a train step).
            if agree_stop is None and stop.requested:
                raise Cancelled()

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            step = batch + 1
            loss = (logs or {}).get("loss")
            # One float check per batch: Keras already turned the logs into Python numbers.
            if loss is not None and not math.isfinite(float(loss)) and self.diverged is None:
                self.diverged = Diverged(
                    f"the loss became {float(loss)}", f"epoch {self.epoch + 1}, step {step}",
                    self._lr(),
                )  # fmt: skip
            if step % every:
                return
            now = time.perf_counter()
            with self.lock:
                done, since = self.mark
                # A late hook from the pool: a newer event was sent, or the run was stopped.
                if step <= done or self.stopped:
                    return
                self.mark = (step, now)
            rate = (step - done) * batch_size / max(now - since, 1e-9)
            writer.emit(
                "batch",
                epoch=self.epoch + 1,
                step=step,
                global_step=self.step_base + step,
                metrics={k: float(v) for k, v in (logs or {}).items()},
                samples_per_second=round(rate, 2),
            )

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch + 1
            metrics = {k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"}
            self.last_logs = metrics
            optimizer = self.model.optimizer
            step = int(_scalar(optimizer.iterations))
            writer.emit(
                "epoch",
                epoch=self.epoch,
                global_step=step,
                metrics=metrics,
                lr=_scalar(optimizer.learning_rate),
                seconds=round(time.perf_counter() - self.epoch_start, 3),
            )
            bad = _non_finite(metrics)
            if bad is not None:  # NaN weights make NaN validation losses: never checkpoint them
                raise Diverged(f"the {bad}", f"the end of epoch {self.epoch}", self._lr())
            value = metrics.get(state["monitor"])
            improved = value is not None and (self.best is None or value < self.best)
            if improved:
                self.best, self.best_epoch = value, self.epoch
            checkpoints.epoch_end(self.model, self.epoch, step, improved)

        def on_train_end(self, logs: Any = None) -> None:
            self.flush()

        def flush(self, force: bool = False) -> None:
            step = int(_scalar(self.model.optimizer.iterations))
            checkpoints.flush(self.model, self.epoch, step, force)

    return Progress()


def tf_op_error() -> type[Exception]:
    import tensorflow as tf

    return tf.errors.OpError


def undecodable_files(job: Job, plan: BuildPlan) -> list[str]:
    """The dataset's files its decoder fails on (asked only after the pipeline failed)."""
    from layerloom.nodes.datasets import open_source

    try:
        return open_source(job.dataset, job.base_dir).undecodable(plan)
    except LayerloomError:
        return []


def _callbacks(keras: Any, settings: dict[str, Any], monitor: str) -> list[Any]:
    extra = []
    if settings["early_stopping"] > 0:
        extra.append(
            keras.callbacks.EarlyStopping(monitor=monitor, patience=settings["early_stopping"])
        )
    if settings["reduce_lr_on_plateau"]:
        extra.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=0.5, patience=settings["plateau_patience"], verbose=0
            )
        )
    return extra


def train(job: Job, writer: EventWriter, stop: Any) -> None:
    keras = load_keras()
    settings = job.settings
    strategy, devices = choose_strategy(settings, writer)
    keras.utils.set_random_seed(int(settings["seed"]))
    plan = BuildPlan.from_json(job.plan)
    options: dict[str, Any] = {}
    agree_stop = None
    if keras.backend.backend() == "jax":
        from layerloom.backends import keras_jax

        keras_jax.check_rules(settings, plan, len(devices))
        keras.distribution.set_distribution(strategy)  # fit and the variables follow it
        options = keras_jax.pipeline_options(settings, len(devices))
        agree_stop = keras_jax.stop_agreement()
    data = open_data(job, plan, **options)
    if options:
        keras_jax.check_steps(data)
        for split, used in (data.evaluated or {}).items():
            if split != "validation":
                continue  # the test split is not used by training
            writer.log(
                f"{split}: {used} of {getattr(data, 'num_' + split)} samples are used, a multiple "
                f"of {options['eval_multiple']} so every batch splits evenly over the devices"
            )
    if stop.requested:  # asked to stop while TensorFlow and the data were loading
        writer.emit("finished", status="cancelled", metrics={}, best_epoch=None, best=None)
        return
    with strategy.scope():
        model, loss, metrics = build_compiled_model(job, plan, data)
        initial_step = 0
        if job.resume_from:
            initial_step = restore_checkpoint(model, job.resume_stem())
            if settings["schedule"] == "constant":
                # The restored state holds the old rate; a resume may ask for a new one.
                model.optimizer.learning_rate = float(settings["learning_rate"])
    monitor = "val_loss" if data.validation is not None else "loss"
    writer.emit(
        "started",
        kind="train",
        params=int(model.count_params()),
        devices=devices,
        **device_facts(devices),
        strategy=type(strategy).__name__,
        steps_per_epoch=data.steps_per_epoch,
        samples={
            "train": data.num_train,
            "validation": data.num_validation,
            "test": data.num_test,
        },
        batch_size=int(settings["batch_size"]),
        task=data.task,
        epochs=int(settings["epochs"]),
        initial_epoch=job.initial_epoch,
        initial_step=initial_step,
        loss=loss,
        metrics=metrics,
        monitor=monitor,
    )
    state = {
        "settings": settings,
        "initial_epoch": job.initial_epoch,
        "initial_step": initial_step,
        "job_dir": job.job_dir,
        "monitor": monitor,
        "agree_stop": agree_stop,
    }
    if not job.resume_from:  # a resumed run's statistics came back with its checkpoint
        with strategy.scope():
            adapt_normalizations(model, data, writer)
            load_initial_weights(model, job, writer)  # after: copied statistics stay
    progress = make_progress(keras, state, writer, stop)
    sampler = health.make_sampler(keras, model, plan, job, data, writer, state)
    stash = nan_replay.make_stash(keras, model, data, settings, devices)
    found = None  # the first non-finite value of a diverged run (backends.nan_replay)
    try:
        model.fit(
            data.train,
            validation_data=data.validation,
            epochs=int(settings["epochs"]),
            initial_epoch=job.initial_epoch,
            callbacks=[
                progress,
                *([sampler] if sampler else []),
                *_callbacks(keras, settings, monitor),
            ],
            verbose=0,
            shuffle=False,  # the training pipeline reshuffles itself every epoch
        )
    except Cancelled:
        with progress.lock:
            progress.stopped = True  # nothing may follow the final checkpoint but 'finished'
        progress.flush(force=True)
        status, reason = "cancelled", None
    except Diverged as diverged:
        with progress.lock:
            progress.stopped = True
        progress.checkpoints.diverged(progress.model)  # only a finite state still in memory
        status, reason = "diverged", str(diverged)
        found = nan_replay.explain(keras, model, plan, stash, writer.log)
        reason += f"; {nonfinite_sentence(found)}" if found else ""
    except tf_op_error() as error:
        bad = undecodable_files(job, plan)
        if not bad:
            raise
        # The input pipeline met a file it cannot read: keep the state so far (a resumable
        # stop), then fail naming the file instead of TensorFlow's anonymous decode error.
        with progress.lock:
            progress.stopped = True
        progress.flush(force=True)
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise DatasetError(
            f"{bad[0]}{more} cannot be decoded (met while training, epoch {progress.epoch + 1}): "
            f"fix or remove it, then continue with --resume {job.run_id}"
        ) from error
    else:
        # A stop that arrives during the last epoch's validation finds nothing left to stop.
        status, reason = "finished", None
    writer.emit(
        "finished",
        status=status,
        **({"reason": reason} if reason else {}),
        **({"nonfinite": found} if found else {}),
        metrics=progress.last_logs,
        best_epoch=progress.best_epoch,
        best=progress.best,
        monitor=monitor,
        epochs=progress.epoch,
    )
