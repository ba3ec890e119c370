"""Synthetic worker events and a fake orchestrator for the training panel tests (no TensorFlow)."""

from __future__ import annotations

from layerloom.nodes import training


def synthetic_run(epochs=3, steps=20, every=1, val=True, start=1000.0, seq=1):
    """Events as ``backends.protocol`` describes them: 1-based epochs and steps."""
    events = [
        {
            "seq": seq,
            "type": "started",
            "time": start,
            "kind": "train",
            "params": 1234,
            "devices": ["cpu"],
            "steps_per_epoch": steps,
            "samples": {"train": steps * 32, "validation": 64},
            "epochs": epochs,
            "initial_epoch": 0,
            "initial_step": 0,
        }
    ]
    t, global_step = start, 0
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            global_step += 1
            t += 0.01
            if step % every == 0:
                loss = 1.0 / (epoch + step / steps)
                events.append(
                    {
                        "type": "batch",
                        "time": t,
                        "epoch": epoch,
                        "step": step,
                        "global_step": global_step,
                        "metrics": {"loss": loss, "accuracy": 1 - loss / 2},
                        "samples_per_second": 3200.0,
                    }
                )
        metrics = {"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + 0.1 * epoch}
        if val:
            metrics.update(val_loss=1.1 / (epoch + 1), val_accuracy=0.45 + 0.1 * epoch)
        events.append(
            {
                "type": "epoch",
                "time": t,
                "epoch": epoch,
                "global_step": global_step,
                "metrics": metrics,
                "lr": 0.001,
                "seconds": steps * 0.01,
            }
        )
    events.append(
        {
            "type": "finished",
            "time": t + 0.1,
            "status": "finished",
            "metrics": events[-1]["metrics"],
            "best_epoch": epochs,
        }
    )
    for number, event in enumerate(events, start=seq):
        event["seq"] = number
    return events


# --- the panel, driven through a fake orchestrator --------------------------------------------
class FakeSession:
    """Replays scripted events like a worker would, a few per poll."""

    def __init__(self, run_id, events, per_poll=40):
        self.run_id = run_id
        self.pending = list(events)
        self.recorded: list[dict] = []
        self.per_poll = per_poll
        self.cancelled = self.closed = False

    @property
    def done(self):
        return bool(self.recorded) and self.recorded[-1]["type"] in ("finished", "failed")

    def poll(self):
        chunk, self.pending = self.pending[: self.per_poll], self.pending[self.per_poll :]
        self.recorded += chunk
        return chunk

    def cancel(self):
        self.cancelled = True
        batch = [e for e in self.pending if e["type"] == "batch"][:1]  # the batch in flight
        seq = (self.recorded or batch or [{"seq": 1}])[-1]["seq"] + 1
        end = {"seq": seq, "type": "finished", "time": 0.0, "status": "cancelled"}
        self.pending = batch + [end | {"metrics": {}, "best_epoch": None}]

    def close(self):
        self.closed = True


class FakeService:
    def __init__(self, script=None, per_poll=40):
        self.script = script or (lambda run_id: synthetic_run(epochs=3, steps=20, every=5))
        self.per_poll = per_poll
        self.sessions: list[FakeSession] = []
        self.started: list[tuple] = []
        self.stored: list[dict] = []
        self.refuse: Exception | None = None
        self.evaluated: list[tuple] = []

    def load_settings(self, opened):
        return dict(training.DEFAULTS), None

    def save_settings(self, opened, values):
        self.stored.append(dict(values))

    def start(self, opened, settings=None, resume_run_id=None):
        if self.refuse is not None:
            raise self.refuse
        run_id = len(self.sessions) + 1
        self.started.append((run_id, settings, resume_run_id))
        session = FakeSession(run_id, self.script(run_id), self.per_poll)
        self.sessions.append(session)
        return session

    def runs(self, opened):
        out = []
        for session in self.sessions:
            last = session.recorded[-1] if session.recorded else {}
            status = "running"
            if last.get("type") == "finished":
                status = last["status"]
            elif last.get("type") == "failed":
                status = "failed"
            epochs = [e for e in session.recorded if e["type"] == "epoch"]
            out.append(
                {
                    "id": session.run_id,
                    "status": status,
                    "graph_version_id": 1,
                    "settings": {"optimizer": "adam", "learning_rate": 0.001, "epochs": 3},
                    "best": epochs[-1]["metrics"] if epochs else {},
                    "epochs": len(epochs),
                    "duration": 12.5 * session.run_id,
                    "error": last.get("reason"),
                }
            )
        return out

    def result_lines(self, opened, run_id):
        return []

    def epoch_metrics(self, opened, run_ids):
        by_id = {s.run_id: s for s in self.sessions}
        return {
            run_id: [e for e in by_id[run_id].recorded if e["type"] == "epoch"]
            for run_id in run_ids
        }

    def evaluate_async(self, path, run_id, split, done):
        self.evaluated.append((run_id, split))
        from PySide6.QtCore import QTimer

        report = {
            "task": "classification",
            "split": split,
            "samples": 300,
            "accuracy": 0.9,
            "classes": ["a", "b", "c"],
            "confusion_matrix": [[90, 8, 2], [5, 92, 3], [4, 8, 88]],
        }
        QTimer.singleShot(10, lambda: done(report, None))
