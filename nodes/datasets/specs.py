"""Dataset specs: the registry of source kinds, opening a spec, and where a project keeps its spec.

A project stores its spec in the setting ``"dataset"`` with paths relative to the project file's
folder when the data lives inside it (so a project folder can move), absolute otherwise. A project
without one trains on its template's sample.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from layerloom.nodes.datasets.arrays import NpzSource
from layerloom.nodes.datasets.base import DataSource
from layerloom.nodes.datasets.images import ImageFolderSource
from layerloom.nodes.datasets.samples import CATALOG, SampleSource
from layerloom.nodes.datasets.tabular import CsvSource
from layerloom.nodes.errors import DatasetError

SOURCES: dict[str, type[DataSource]] = {
    cls.kind: cls for cls in (CsvSource, ImageFolderSource, NpzSource, SampleSource)
}
SETTING = "dataset"


def open_source(spec: dict[str, Any], base_dir: str | Path | None = None) -> DataSource:
    """The source a spec describes; relative paths resolve against ``base_dir`` (default: cwd)."""
    if not isinstance(spec, dict):
        raise DatasetError(f"a dataset spec is a JSON object, not {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in SOURCES:
        raise DatasetError(f"unknown dataset kind {kind!r}; kinds: {', '.join(SOURCES)}")
    return SOURCES[kind](spec, base_dir)


def sample_for_template(template_name: str) -> dict[str, Any]:
    """The built-in sample spec that fits a starter template (its ``"sample"`` field)."""
    from layerloom.nodes.templates import list_templates

    infos = {info.name: info for info in list_templates()}
    if template_name not in infos:
        raise DatasetError(f"unknown template {template_name!r}; templates: {', '.join(infos)}")
    sample = infos[template_name].sample
    if sample not in CATALOG:
        raise DatasetError(f"template {template_name!r} names no built-in sample ({sample!r})")
    return {"kind": "sample", "name": sample}


def _project_of(opened: Any) -> Any:
    # Accept the workbench's OpenProject or a bare nodes.project.Project: nodes cannot import app.
    return getattr(opened, "project", opened)


def stored_dataset_spec(opened: Any) -> dict[str, Any] | None:
    """The spec exactly as the project stores it (paths may be relative), or None."""
    return _project_of(opened).get_setting(SETTING)


def dataset_spec_for(opened: Any) -> dict[str, Any]:
    """The project's dataset spec, ready for ``open_source`` from any working directory.

    The stored spec with its path made absolute, or the template's sample when none is stored.
    """
    project = _project_of(opened)
    spec = project.get_setting(SETTING)
    if spec is None:
        template = project.get_setting("template")
        if not template:
            raise DatasetError(
                f"{Path(project.path).name} has no dataset; set one with `layerloom data`"
            )
        return sample_for_template(template)
    return resolve_paths(spec, Path(project.path).resolve().parent)


def resolve_paths(spec: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    if "path" not in spec:
        return dict(spec)
    path = Path(spec["path"]).expanduser()
    return {**spec, "path": str(path if path.is_absolute() else base_dir / path)}


def spec_for_storage(spec: dict[str, Any], project_path: str | Path) -> dict[str, Any]:
    """``spec`` with its path relative to the project's folder when inside it, else absolute."""
    if "path" not in spec:
        return dict(spec)
    path = Path(spec["path"]).expanduser().resolve()
    folder = Path(project_path).resolve().parent
    if path.is_relative_to(folder):
        return {**spec, "path": path.relative_to(folder).as_posix() or "."}
    return {**spec, "path": os.fspath(path)}


def store_dataset_spec(opened: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Write ``spec`` (paths made storable) to the project's settings; return what was stored."""
    project = _project_of(opened)
    stored = spec_for_storage(spec, project.path)
    project.set_setting(SETTING, stored)
    return stored


def _columns(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def spec_from_options(
    options: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A spec from command-line style options (``csv``/``images``/``npz``/``sample`` plus the
    per-kind and split options), or ``current`` with its split/task changed; None if nothing is
    asked. Paths become absolute against the working directory.
    """
    given = {k: v for k, v in options.items() if v is not None}
    sources = [k for k in ("csv", "images", "npz", "sample") if k in given]
    per_kind = {"target": "csv", "features": "csv", "categorical": "csv", "delimiter": "csv"}
    per_kind |= {"x": "npz", "y": "npz"}
    if len(sources) > 1:
        raise DatasetError(f"give one source, not {' and '.join('--' + k for k in sources)}")
    for option, kind in per_kind.items():
        if option in given and sources != [kind]:
            raise DatasetError(f"--{option} goes with --{kind}")
    split = {key: given[key] for key in ("validation", "test", "seed") if key in given}
    if "split_column" in given:
        split["column"] = given["split_column"]
    if sources:
        kind = sources[0]
        if kind == "sample":
            spec: dict[str, Any] = {"kind": "sample", "name": given["sample"]}
        else:
            spec = {"kind": kind, "path": os.fspath(Path(given[kind]).expanduser().resolve())}
        if kind == "csv":
            spec["target"] = given.get("target")
            for key in ("features", "categorical"):
                if _columns(given.get(key)):
                    spec[key] = _columns(given.get(key))
            if "delimiter" in given:
                spec["delimiter"] = given["delimiter"].replace("\\t", "\t")
        if kind == "npz":
            spec |= {"x": given.get("x", "x"), "y": given.get("y", "y")}
    elif split or "task" in given:
        if current is None:
            raise DatasetError("the project has no dataset to change; give a source")
        spec = dict(current)
    else:
        return None
    if "task" in given:
        spec["task"] = given["task"]
    if split:
        spec["split"] = {**(spec.get("split") or {}), **split}
    return spec
