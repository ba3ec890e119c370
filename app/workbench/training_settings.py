"""Showing and changing a project's training settings by name (``layerloom settings``).

The training settings are ``nodes.training.SETTINGS``, stored in the project's setting
``"training"``. The validation and test shares are not training settings: they are the dataset
spec's ``split`` (what ``layerloom data --validation/--test`` and the GUI's Data tab set), so every
run of a dataset validates on the same examples. ``validation_split`` and ``test_split`` here read
and write that one place. Changes are checked in full on a read-only view first, so a refused
change leaves the file's bytes as they were.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layerloom.app.workbench import OpenProject, open_project
from layerloom.nodes import training
from layerloom.nodes.errors import CompileError, DatasetError, UsageError
from layerloom.nodes.param_text import parse_text
from layerloom.nodes.params import Float, Param

DATASET_SPLIT = "dataset split"
# setting name -> the key in the dataset spec's "split"
SPLIT_KEYS = {"validation_split": "validation", "test_split": "test"}
SPLIT_SETTINGS: tuple[Param, ...] = (
    Float(
        "validation_split",
        0.2,
        "share of the examples held out to validate on (the dataset's split, as"
        " `layerloom data --validation`)",
        min=0.0,
        max=0.95,
    ),
    Float(
        "test_split",
        0.1,
        "share of the examples held out to test on (the dataset's split, as `layerloom data --test`)",
        min=0.0,
        max=0.95,
    ),
)
ALL: dict[str, Param] = {p.name: p for p in (*training.SETTINGS, *SPLIT_SETTINGS)}


@dataclass(frozen=True)
class SettingRow:
    name: str
    value: Any
    default: Any
    help: str
    where: str  # "training" or "dataset split": where the value is stored
    param: dict[str, Any]  # the Param's description (kind, choices, range)

    @property
    def is_default(self) -> bool:
        return self.value == self.default

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "default": self.default,
            "is_default": self.is_default,
            "help": self.help,
            "where": self.where,
            "kind": self.param["kind"],
            **{k: v for k, v in self.param.items() if k in ("choices", "min", "max")},
        }


@dataclass(frozen=True)
class Change:
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class _Planned:
    stored: dict[str, Any]  # the training settings to store (defaults filled in by ``save``)
    spec: dict[str, Any] | None  # the dataset spec to store, when its split changes
    changes: list[Change]


def show_settings(path: str | Path) -> list[SettingRow]:
    """Every setting with its value, default and help (the project opened read-only)."""
    with open_project(path, readonly=True) as opened:
        values = _current(opened)
    return [
        SettingRow(
            param.name,
            values[param.name],
            param.default,
            param.doc,
            DATASET_SPLIT if param.name in SPLIT_KEYS else "training",
            param.describe(),
        )
        for param in ALL.values()
    ]


def change_settings(
    path: str | Path, pairs: Sequence[str], reset: Sequence[str] = ()
) -> list[Change]:
    """Set ``KEY=VALUE`` pairs and reset ``reset`` keys to their defaults; the changes made.

    UsageError names an unknown setting or a bad value, and nothing is written."""
    given: dict[str, Any] = {}
    for text in pairs:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{text!r} is not KEY=VALUE")
        name = _known(key)
        given[name] = parse_text(ALL[name], value)
    for key in reset:
        name = _known(key)
        given[name] = ALL[name].default
    with open_project(path, readonly=True) as opened:
        planned = _plan(opened, given)
    if not planned.changes:
        return []
    with open_project(path) as opened:
        planned = _plan(opened, given)  # again on what is stored now: another process may write
        if any(c.name in training.BY_NAME for c in planned.changes):
            training.save(opened.project, planned.stored)
        if planned.spec is not None:
            from layerloom.nodes.datasets import store_dataset_spec

            store_dataset_spec(opened, planned.spec)
    return planned.changes


def _known(key: str) -> str:
    if key in ALL:
        return key
    close = difflib.get_close_matches(key, list(ALL), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(f"unknown setting {key!r}; {hint}settings are: {', '.join(ALL)}")


def _current(opened: OpenProject) -> dict[str, Any]:
    stored = opened.project.get_setting(training.SETTING_KEY, {})
    values = {p.name: p.normalize(stored.get(p.name, p.default)) for p in training.SETTINGS}
    split = (_dataset_spec(opened, required=False) or {}).get("split") or {}
    for name, key in SPLIT_KEYS.items():
        values[name] = split.get(key, ALL[name].default)
    return values


def _dataset_spec(opened: OpenProject, required: bool = True) -> dict[str, Any] | None:
    from layerloom.nodes.datasets import dataset_spec_for

    try:
        return dataset_spec_for(opened)
    except DatasetError as error:
        if required:
            raise UsageError(str(error)) from None
        return None


def _plan(opened: OpenProject, given: dict[str, Any]) -> _Planned:
    before = _current(opened)
    for name, value in given.items():
        problem = ALL[name].check(value)
        if problem:
            raise UsageError(problem)
    stored = dict(opened.project.get_setting(training.SETTING_KEY, {}))
    stored.update({k: v for k, v in given.items() if k in training.BY_NAME})
    found = training.problems(stored)
    if found:
        raise UsageError("; ".join(found))
    if {"augmentation"} & given.keys():
        _check_augmentation(opened, stored)
    spec = None
    split_given = {SPLIT_KEYS[k]: v for k, v in given.items() if k in SPLIT_KEYS}
    if split_given and any(before[k] != v for k, v in given.items() if k in SPLIT_KEYS):
        from layerloom.nodes.datasets.base import normalize_split

        current = _dataset_spec(opened)
        assert current is not None
        split = {**(current.get("split") or {}), **split_given}
        try:
            normalize_split(split)
        except DatasetError as error:
            raise UsageError(str(error)) from None
        spec = {**current, "split": split}
    after = {**before, **given}
    changes = [
        Change(name, before[name], after[name]) for name in ALL if before[name] != after[name]
    ]
    return _Planned(stored, spec, changes)


def _check_augmentation(opened: OpenProject, stored: dict[str, Any]) -> None:
    """Augmentation on a model without an image Input would do nothing: refused by name. A graph
    that does not compile yet cannot say; ``train`` checks again."""
    from layerloom.nodes.compile import build_plan

    try:
        plan = build_plan(opened.graph, opened.registry)
    except CompileError:
        return
    problem = training.augmentation_problem(training.resolve(stored), plan)
    if problem:
        raise UsageError(problem)
