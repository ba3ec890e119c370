"""Dataset specs: the registry of source kinds, opening a spec, and where a project keeps its spec.

A project stores its spec in the setting ``"dataset"`` with paths relative to the project file's
folder when the data lives inside it (so a project folder can move), absolute otherwise. A project
without one trains on its template's sample.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# The built-in kinds register themselves on import (``register_source``), as a plugin's would.
from layerloom.nodes.datasets import arrays, images, samples, tabular  # noqa: F401
from layerloom.nodes.datasets.base import SOURCES, DataSource
from layerloom.nodes.datasets.samples import CATALOG
from layerloom.nodes.errors import DatasetError

SETTING = "dataset"


def open_source(spec: dict[str, Any], base_dir: str | Path | None = None) -> DataSource:
    """The source a spec describes; relative paths resolve against ``base_dir`` (default: cwd)."""
    if not isinstance(spec, dict):
        raise DatasetError(f"a dataset spec is a JSON object, not {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in SOURCES:
        raise DatasetError(f"unknown dataset kind {kind!r}; kinds: {', '.join(sorted(SOURCES))}")
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


def spec_from_options(
    options: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A spec from command-line style options (one registered kind, e.g. ``csv``, mapped to its
    path or name, plus that kind's options and the split/task options), or ``current`` with its
    split/task changed; None if nothing is asked. Paths become absolute against the working
    directory. Other keys (``project``, ``rows``...) are ignored.
    """
    given = {k: v for k, v in options.items() if v is not None}
    sources = [k for k in SOURCES if k in given]
    if len(sources) > 1:
        raise DatasetError(f"give one source, not {' and '.join('--' + k for k in sources)}")
    for kind, source in SOURCES.items():
        for option in source.cli_options:
            if option.name in given and sources != [kind]:
                raise DatasetError(f"--{option.name} goes with --{kind}")
    split = {key: given[key] for key in ("validation", "test", "seed") if key in given}
    if "split_column" in given:
        split["column"] = given["split_column"]
    if sources:
        kind = sources[0]
        spec = SOURCES[kind].spec_from_given(given[kind], given)
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
