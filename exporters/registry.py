"""The exporter registry: built-in targets register through the ``layerloom.exporters`` entry-point
group, the same way a third-party plugin would."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from layerloom.exporters.base import Artifact, ExportContext, Exporter, ExportError

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "layerloom.exporters"
# The order of the export dialog's buttons; targets not named here follow, by name.
ORDER = ("tflite", "micro", "tfjs", "serving", "onnx", "keras", "python")


class ExporterRegistry:
    def __init__(self, exporters: list[Exporter]) -> None:
        self._by_target: dict[str, Exporter] = {}
        for exporter in exporters:
            if exporter.target in self._by_target:
                raise ExportError(f"two exporters claim the target {exporter.target!r}")
            self._by_target[exporter.target] = exporter

    def __getitem__(self, target: str) -> Exporter:
        try:
            return self._by_target[target]
        except KeyError:
            known = ", ".join(self.targets())
            raise ExportError(f"unknown export target {target!r} (targets: {known})") from None

    def __contains__(self, target: object) -> bool:
        return target in self._by_target

    def targets(self) -> list[str]:
        def rank(target: str) -> tuple[int, str]:
            return (ORDER.index(target) if target in ORDER else len(ORDER), target)

        return sorted(self._by_target, key=rank)

    def __iter__(self) -> Iterator[Exporter]:
        return (self._by_target[t] for t in self.targets())


def _broken(target: str, reason: str) -> Exporter:
    class Broken(Exporter):
        title = target
        summary = "could not be loaded"

        def unavailable(self) -> str | None:
            return reason

        def export(self, ctx: ExportContext) -> Artifact:
            raise ExportError(reason)

        def predict(
            self, artifact: Artifact, ctx: ExportContext, inputs: dict[str, Any]
        ) -> list[Any]:
            raise ExportError(reason)

    Broken.target = target
    return Broken()


@lru_cache(maxsize=1)
def default_exporters() -> ExporterRegistry:
    found = []
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found.append(entry_point.load()())
        except ImportError as error:
            # One broken plugin must not take the other targets down with it; it stays listed,
            # unavailable, with the import error as its reason.
            log.warning("export target %s could not be loaded: %s", entry_point.name, error)
            found.append(_broken(entry_point.name, f"{entry_point.name} failed to load: {error}"))
    return ExporterRegistry(found)
