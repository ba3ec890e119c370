"""CSV/TSV files: a header row, one example per row, a target column and feature columns.

Numeric columns are read as float; a text column (more than half its cells are not numbers, or
listed in ``categorical``) is one-hot encoded with its values in sorted order. A text target
becomes class indices with sorted class names. Row numbers in messages are the file's line
numbers (the header is row 1), as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.nodes.datasets.base import (
    DataInfo,
    Preview,
    SourceOption,
    contract_basics,
    register_source,
    sha256_file,
)
from layerloom.nodes.datasets.contract import Column, InputContract
from layerloom.nodes.datasets.finite import FLOAT32_MAX, first_out_of_range
from layerloom.nodes.datasets.fit import Target, target_from_values
from layerloom.nodes.datasets.memory import InMemorySource
from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan

MAX_CATEGORIES = 1000  # distinct values a text feature column may one-hot encode into

SPLIT_VALUES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
    "testing": "test",
}


@dataclass(frozen=True)
class Table:
    header: list[str]
    columns: dict[str, list[str]]  # column-major cells, as text
    lines: list[int]  # the file line of each row


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _column_list(text: str) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] or None


def _default_delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() in (".tsv", ".tab") else ","


@register_source
class CsvSource(InMemorySource):
    kind = "csv"
    rank = 10
    options = ("target", "features", "categorical", "delimiter")
    label = "CSV or TSV file"
    what = "a CSV or TSV file"
    file_filter = "Tables (*.csv *.tsv *.tab *.txt);;All files (*)"
    cli_help = "CSV/TSV file with a header row"
    cli_options = (
        SourceOption(
            "target", "the column to predict", "COL", label="Target", accessible="Target column",
            column=True,
        ),
        SourceOption(
            "features", "feature columns (default: all others)", "A,B", parse=_column_list,
            label="Features", accessible="Feature columns",
            placeholder="all other columns (comma-separated names)",
        ),
        SourceOption(
            "categorical", "columns to one-hot even if numeric", "A,B", parse=_column_list
        ),
        SourceOption(
            "delimiter", "field separator (default: tab for .tsv, else comma)",
            parse=lambda text: text.replace("\\t", "\t"),
        ),
    )  # fmt: skip

    @classmethod
    def columns(cls, path: Path) -> list[str]:
        """The names on the file's header line (tab-separated for .tsv/.tab)."""
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=_default_delimiter(Path(path)))
            return [name.strip() for name in next(reader, [])]

    def __init__(self, spec: dict[str, Any], base_dir: str | Path | None = None) -> None:
        super().__init__(spec, base_dir)
        if not spec.get("target"):
            raise DatasetError("a csv dataset needs a target column (--target)")
        self._table: Table | None = None
        self._onehot: dict[str, list[str]] = {}  # input name -> notes on encoded columns
        self._text: dict[str, bool] = {}  # column -> categorical? (scanning cells is slow)

    # -- reading -----------------------------------------------------------------------------------

    def table(self) -> Table:
        if self._table is None:
            self._table = self._read(self.require_path())
        return self._table

    def _read(self, path: Path) -> Table:
        delimiter = self.spec.get("delimiter") or _default_delimiter(path)
        rows: list[list[str]] = []
        lines: list[int] = []
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle, delimiter=delimiter)
                header = [cell.strip() for cell in next(reader, [])]
                for row in reader:
                    if not any(cell.strip() for cell in row):
                        continue  # blank lines (often a trailing one) are not examples
                    if len(row) != len(header):
                        raise DatasetError(
                            f"{self.name}, row {reader.line_num}: {len(row)} values but the"
                            f" header has {len(header)} columns"
                        )
                    rows.append(row)
                    lines.append(reader.line_num)
        except UnicodeDecodeError as error:
            raise DatasetError(f"{self.name} is not UTF-8 text ({error.reason})") from None
        except csv.Error as error:
            raise DatasetError(f"{self.name}: {error}") from None
        if not header:
            raise DatasetError(f"{self.name} is empty")
        # Counted once (linear): header.count per column took 248 s on 100,000 columns.
        duplicates = sorted(name for name, n in Counter(header).items() if n > 1)
        if duplicates:
            raise DatasetError(f"{self.name} has more than one column named '{duplicates[0]}'")
        if not rows:
            raise DatasetError(f"{self.name} has a header but no rows")
        columns = {name: [row[i].strip() for row in rows] for i, name in enumerate(header)}
        return Table(header, columns, lines)

    def column(self, name: str) -> list[str]:
        table = self.table()
        if name not in table.columns:
            raise DatasetError(
                f"{self.name} has no column '{name}'; columns: {', '.join(table.header)}"
            )
        return table.columns[name]

    def is_text(self, name: str) -> bool:
        """A categorical column: listed as such, or most of its cells are not numbers."""
        if name not in self._text:
            cells = self.column(name)
            filled = [c for c in cells if c]
            listed = name in (self.spec.get("categorical") or [])
            self._text[name] = listed or sum(not _is_number(c) for c in filled) * 2 > len(filled)
        return self._text[name]

    def numbers(self, name: str) -> np.ndarray:
        cells = self.column(name)
        try:
            values = np.array(cells, dtype=np.float64)
            if np.all(np.isfinite(values)):
                self._in_float32_range(name, values)
                return values
        except ValueError:
            pass
        index = next(i for i, cell in enumerate(cells) if not _is_number(cell))
        where = f"{self.name}, row {self.table().lines[index]}, column '{name}'"
        if not cells[index]:
            raise DatasetError(f"{where} is empty; fill in or drop missing values")
        raise DatasetError(f"{where}: '{cells[index]}' is not a number")

    def _in_float32_range(self, name: str, values: np.ndarray) -> None:
        """Training reads float32: 1e308 would become inf there, so it is refused here."""
        index = first_out_of_range(values)
        if index is not None:
            raise DatasetError(
                f"{self.name}, row {self.table().lines[index]}, column '{name}':"
                f" {self.column(name)[index]} is beyond float32's range (±{FLOAT32_MAX:.1e})"
            )

    # -- features and target -----------------------------------------------------------------------

    def feature_groups(self) -> dict[str | None, list[str]]:
        """Columns per Input name (None: the model's only Input)."""
        # The target and split columns first: a misspelt target is the likelier mistake.
        for name in (self.spec["target"], self.split["column"]):
            if name is not None:
                self.column(name)
        features = self.spec.get("features")
        if isinstance(features, dict):
            groups = {str(k): list(v) for k, v in features.items()}
        elif features:
            groups = {None: list(features)}
        else:
            skip = {self.spec["target"], self.split["column"]}
            groups = {None: [h for h in self.table().header if h not in skip]}
        for columns in groups.values():
            for name in columns:
                self.column(name)
            if not columns:
                raise DatasetError(f"{self.name} has no feature columns besides the target")
        return groups

    def matrix(self, columns: list[str], input_name: str) -> np.ndarray:
        parts, notes = [], []
        for name in columns:
            if self.is_text(name):
                categories, codes = np.unique(np.array(self.column(name)), return_inverse=True)
                self._not_an_id(name, len(categories))
                parts.append(np.eye(len(categories), dtype=np.float64)[codes])
                notes.append(f"'{name}' into {len(categories)}")
            else:
                parts.append(self.numbers(name)[:, None])
        self._onehot[input_name] = notes
        return np.concatenate(parts, axis=1)

    def _not_an_id(self, name: str, categories: int) -> None:
        """A text column with a value per row (an ID, free text) is refused before one-hot
        encoding it: rows x values floats (1 GB for 11,000 rows) to learn nothing."""
        rows = self.count()
        if categories > MAX_CATEGORIES or (categories > 50 and categories * 2 > rows):
            raise DatasetError(
                f"{self.name}, column '{name}': text with {categories:,} different values in"
                f" {rows:,} rows (an ID or free text?) would one-hot encode into {categories:,}"
                f" features; leave it out with --features (at most {MAX_CATEGORIES:,} values,"
                " and fewer than half the rows)"
            )

    def inputs_for(self, plan: BuildPlan) -> dict[str, np.ndarray]:
        groups = self.feature_groups()
        if None in groups:
            return {self.single_input(plan): self.matrix(groups[None], plan.inputs[0].name)}
        wanted = [i.name for i in plan.inputs]
        if sorted(groups) != sorted(wanted):
            raise DatasetError(
                f"{self.name}: features are given for {', '.join(sorted(groups))}"
                f" but the model's Inputs are {', '.join(wanted)}"
            )
        return {str(name): self.matrix(cols, str(name)) for name, cols in groups.items()}

    def input_contract(self, plan: BuildPlan, info: DataInfo) -> InputContract:
        groups = self.feature_groups()
        names = {None: self.single_input(plan)} if None in groups else {}
        columns = {
            names.get(group, str(group)): [self._contract_column(name) for name in group_columns]
            for group, group_columns in groups.items()
        }
        return InputContract(
            kind="table", columns=columns, target=self.spec["target"], **contract_basics(plan, info)
        )

    def _contract_column(self, name: str) -> Column:
        if not self.is_text(name):
            return Column(name, "numeric")
        # The same sorted vocabulary ``matrix`` one-hot encodes over.
        return Column(name, "categorical", [str(v) for v in np.unique(np.array(self.column(name)))])

    def describe_input(self, input_name: str, array: np.ndarray) -> str:
        notes = self._onehot.get(input_name)
        encoded = f" (after one-hot encoding {', '.join(notes)})" if notes else ""
        return f"{self.name} has {array.shape[1]} feature columns{encoded}"

    def target(self) -> Target:
        name = self.spec["target"]
        cells = self.column(name)
        if all(_is_number(c) for c in cells):
            values = np.array(cells, dtype=np.float64)
            self._in_float32_range(name, values)
            return target_from_values(values)
        if "" in cells:
            row = self.table().lines[cells.index("")]
            raise DatasetError(f"{self.name}, row {row}, column '{name}' is empty")
        return target_from_values(np.array(cells))

    # -- the rest of the interface -----------------------------------------------------------------

    def count(self) -> int:
        return len(self.table().lines)

    def fingerprint(self) -> str:
        return sha256_file(self.require_path())

    def split_indices(self) -> dict[str, np.ndarray]:
        name = self.split["column"]
        if name is None:
            return super().split_indices()
        parts: dict[str, list[int]] = {"train": [], "validation": [], "test": []}
        for index, cell in enumerate(self.column(name)):
            part = SPLIT_VALUES.get(cell.lower())
            if part is None:
                row = self.table().lines[index]
                raise DatasetError(
                    f"{self.name}, row {row}, column '{name}': '{cell}' is not train,"
                    " validation or test"
                )
            parts[part].append(index)
        if not parts["train"]:
            raise DatasetError(f"{self.name}: column '{name}' marks no row as train")
        return {part: np.array(indices, dtype=np.int64) for part, indices in parts.items()}

    def _describe_column(self, name: str) -> str:
        if name == self.spec["target"]:
            target = self.target()
            kind = f"{len(target.class_names)} values" if target.class_names else "numbers"
            return f"{name}: target ({kind})"
        if name == self.split["column"]:
            return f"{name}: split (train/validation/test)"
        if self.is_text(name):
            count = len(set(self.column(name)))
            return f"{name}: categorical, {count} values (one-hot)"
        return f"{name}: numeric"

    def preview(self, rows: int = 5) -> Preview:
        table = self.table()
        used = {c for cols in self.feature_groups().values() for c in cols}
        used |= {self.spec["target"], self.split["column"]}
        described = [
            self._describe_column(h) if h in used else f"{h}: not used" for h in table.header
        ]
        target = self.target()
        classes = None
        if target.class_names and (target.text or len(target.class_names) <= 100):
            counts = np.bincount(target.labels, minlength=len(target.class_names))
            classes = dict(zip(target.class_names, counts.tolist(), strict=True))
        first = [
            [table.columns[h][i] for h in table.header] for i in range(min(rows, self.count()))
        ]
        return Preview(
            kind=self.kind,
            path=str(self.path),
            count=self.count(),
            unit="rows",
            columns=described,
            classes=classes,
            header=list(table.header),
            rows=first,
        )
