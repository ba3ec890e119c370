"""Streaming statistics of a CSV/TSV file, in one pass with bounded memory (no TensorFlow).

The file is read in chunks of ``CHUNK_ROWS`` rows; what is kept per column does not grow with it:

- numeric columns: count, missing, min/max, mean and standard deviation (population, as
  ``numpy.std``; chunk moments merged with Chan's parallel form of Welford's update), non-finite
  and non-numeric cells, zeros; quantiles from a reservoir sample of ``RESERVOIR`` values (exact
  while a column has no more finite values than that; beyond, each quantile's rank is within
  3·sqrt(q(1-q)/RESERVOIR) ≤ 0.83% of the true rank with probability 99.7%; the sample's seed is
  fixed, so figures repeat); a histogram of ``HIST_BINS`` equal-width bins whose width doubles
  (adjacent bins merged) whenever a value falls outside, so its counts are exact.
- categorical columns: counts of up to ``MAX_DISTINCT`` distinct values; once that many are held,
  new values are counted together as "other" and ``distinct`` is a lower bound.

A column's type is decided by the first chunk that has values in it (numeric when at least half
its filled cells parse as numbers, ``nan``/``inf`` included, and it is not listed as categorical);
later non-numbers in a numeric column are counted (``non_numeric``) with example rows. An empty
cell (or whitespace only) is missing. Row numbers are the file's line numbers, the header being
line 1, as ``tabular`` reports them. ``Watch`` lists what a check looks for during the same pass
(ranges, allowed values, drift bins), so checking a file reads it once.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.nodes.errors import DatasetError

CHUNK_ROWS = 20_000
RESERVOIR = 32_768
HIST_BINS = 64
MAX_DISTINCT = 10_000
TOP_VALUES = 1_000  # the categorical counts a statistics record keeps
EXAMPLES = 5  # example rows kept per finding
QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
DRIFT_QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class Watch:
    """What a check looks for in one column while the statistics are gathered."""

    type: str | None = None  # force "numeric" or "categorical" (the schema's type)
    min: float | None = None
    max: float | None = None
    values: frozenset[str] | None = None  # allowed categorical values
    edges: list[float] | None = None  # numeric drift bins' inner edges


@dataclass
class Finding:
    count: int = 0
    rows: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def add(self, lines: np.ndarray, cells: list[str]) -> None:
        self.count += len(lines)
        room = EXAMPLES - len(self.rows)
        if room > 0:
            self.rows.extend(int(x) for x in lines[:room])
            self.examples.extend(cells[:room])


class _Histogram:
    """Bins ``[j·w, (j+1)·w)`` on a power-of-two grid, ``HIST_BINS`` of them held from ``first``.

    When a value falls outside, the width doubles and neighbouring bins merge (the grids nest),
    until every value fits. The width that results is the smallest power of two that holds the
    whole range in ``HIST_BINS`` bins, whatever the chunking, so streamed and whole-file
    histograms are the same, and the counts are exact.
    """

    def __init__(self) -> None:
        self.width = 0.0  # 0: not started (a constant column so far is held in ``pending``)
        self.first = 0.0  # the grid index of the first bin held
        self.counts = np.zeros(HIST_BINS, dtype=np.int64)
        self.pending: tuple[float, int] | None = None
        self.low, self.high = math.inf, -math.inf  # the values seen

    def add(self, values: np.ndarray) -> None:
        vmin, vmax = float(values.min()), float(values.max())
        if self.width == 0.0:
            if self.pending is not None:
                vmin, vmax = min(vmin, self.pending[0]), max(vmax, self.pending[0])
            if vmin == vmax:
                count = len(values) + (self.pending[1] if self.pending else 0)
                self.pending = (vmin, count)
                return
            self.width = 2.0 ** math.ceil(math.log2((vmax - vmin) / HIST_BINS))
            self.first = math.floor(vmin / self.width)
            self.low, self.high = vmin, vmax
            if self.pending is not None:
                value, count = self.pending
                self.pending = None
                self.add(np.full(count, value))
        low = min(vmin, self.low)
        high = max(vmax, self.high)
        width = self.width
        while math.floor(high / width) - math.floor(low / width) >= HIST_BINS:
            width *= 2
        first = math.floor(low / width)
        if (width, first) != (self.width, self.first):
            # Re-bin what is held onto the coarser grid: old bin j lies in new bin j // factor.
            factor = round(width / self.width)
            old = self.first + np.arange(HIST_BINS)
            self.counts = np.bincount(
                (old // factor - first).clip(0, HIST_BINS - 1),
                weights=self.counts,
                minlength=HIST_BINS,
            ).astype(np.int64)
            self.width, self.first = width, first
        self.low, self.high = low, high
        index = np.floor(values / self.width) - self.first
        self.counts += np.bincount(
            np.clip(index, 0, HIST_BINS - 1).astype(np.int64), minlength=HIST_BINS
        )

    def to_json(self) -> dict[str, list]:
        if self.pending is not None:
            value, count = self.pending
            return {"edges": [value, value], "counts": [count]}
        filled = np.flatnonzero(self.counts)
        if not len(filled):
            return {"edges": [], "counts": []}
        first, last = int(filled[0]), int(filled[-1]) + 1
        edges = [(self.first + i) * self.width for i in range(first, last + 1)]
        return {"edges": edges, "counts": [int(c) for c in self.counts[first:last]]}


class _Column:
    def __init__(self, name: str, watch: Watch | None, forced: str | None, count_labels: bool):
        self.name = name
        self.watch = watch
        self.type = forced or (watch.type if watch else None)
        self.count = 0  # filled cells
        self.missing = Finding()
        # numeric
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.zeros = 0
        self.non_finite = Finding()
        self.non_numeric = Finding()
        self.reservoir = np.empty(RESERVOIR)
        self.rng = np.random.default_rng(0)
        self.hist = _Histogram()
        # categorical (and the target's labels, whatever its type)
        self.values: Counter[str] = Counter()
        self.other = 0
        self.count_labels = count_labels
        # checks
        self.below = Finding()
        self.above = Finding()
        self.unseen = Finding()
        self.drift = (
            np.zeros(len(watch.edges) + 1, dtype=np.int64) if watch and watch.edges else None
        )

    # -- one chunk ---------------------------------------------------------------------------------

    def add(self, cells: tuple[str, ...], lines: np.ndarray) -> None:
        arr = np.array(cells, dtype=object)
        empty = arr == ""
        if empty.any():
            self.missing.add(lines[empty], [""] * int(empty.sum()))
            arr, lines = arr[~empty], lines[~empty]
        if not len(arr):
            return
        if self.type is None:
            self.type = "numeric" if _mostly_numbers(arr) else "categorical"
        if self.type == "numeric":
            self._numbers(arr, lines)
        else:
            self._categories(arr.tolist(), lines)

    def _numbers(self, arr: np.ndarray, lines: np.ndarray) -> None:
        try:
            values = arr.astype(np.float64)
        except ValueError:  # a few non-numbers (or blanks): parse cell by cell
            values, ok = _parse_each(arr)
            blank = np.array([not str(c).strip() for c in arr]) & ~ok
            if blank.any():
                self.missing.add(lines[blank], [""] * int(blank.sum()))
            bad = ~ok & ~blank
            if bad.any():
                self.non_numeric.add(lines[bad], arr[bad].tolist())
            arr, lines, values = arr[ok], lines[ok], values[ok]
        self.count += len(values)
        if self.count_labels:
            self._count(arr.tolist())
        finite = np.isfinite(values)
        if not finite.all():
            self.non_finite.add(lines[~finite], arr[~finite].tolist())
            values, lines, arr = values[finite], lines[finite], arr[finite]
        if not len(values):
            return
        self._moments(values)
        self._sample(values)
        self.hist.add(values)
        self.zeros += int(np.count_nonzero(values == 0))
        watch = self.watch
        if watch is not None:
            for bound, finding, outside in (
                (watch.min, self.below, lambda b: values < b),
                (watch.max, self.above, lambda b: values > b),
            ):
                if bound is not None:
                    mask = outside(bound)
                    if mask.any():
                        finding.add(lines[mask], arr[mask].tolist())
            if self.drift is not None:
                bins = np.searchsorted(np.asarray(watch.edges), values, side="right")
                self.drift += np.bincount(bins, minlength=len(self.drift))

    def _moments(self, values: np.ndarray) -> None:
        n_b, mean_b = len(values), float(values.mean())
        m2_b = float(((values - mean_b) ** 2).sum())
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.n = n
        self.min = min(self.min, float(values.min()))
        self.max = max(self.max, float(values.max()))

    def _sample(self, values: np.ndarray) -> None:
        """Reservoir sampling (Algorithm R), vectorised over the chunk."""
        seen = self.n - len(values)  # finite values before this chunk (moments already added)
        take = max(0, min(RESERVOIR - seen, len(values)))
        self.reservoir[seen : seen + take] = values[:take]
        rest = values[take:]
        if len(rest):
            index = self.rng.integers(0, np.arange(seen + take, seen + len(values)) + 1)
            keep = index < RESERVOIR
            # Repeated slots: numpy's assignment keeps the last, as the sequential algorithm does.
            self.reservoir[index[keep]] = rest[keep]

    def _categories(self, cells: list[str], lines: np.ndarray) -> None:
        stripped = [c.strip() for c in cells]
        blank = np.array([not c for c in stripped])
        if blank.any():
            self.missing.add(lines[blank], [""] * int(blank.sum()))
            stripped = [c for c in stripped if c]
            lines = lines[~blank]
        self.count += len(stripped)
        self._count(stripped)
        watch = self.watch
        if watch is not None and watch.values is not None:
            unseen = np.array([c not in watch.values for c in stripped], dtype=bool)
            if unseen.any():
                self.unseen.add(
                    lines[unseen], [c for c, u in zip(stripped, unseen, strict=True) if u]
                )

    def _count(self, cells: list[str]) -> None:
        for raw, n in Counter(cells).items():  # counted first, stripped per distinct value
            value = raw.strip()
            if value in self.values or len(self.values) < MAX_DISTINCT:
                self.values[value] += n
            else:
                self.other += n

    # -- the record --------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "name": self.name,
            "type": self.type or "empty",
            "count": self.count,
            "missing": self.missing.count,
        }
        if self.type == "numeric":
            record["numeric"] = self._numeric_json()
        if self.type == "categorical" or self.count_labels:
            top = self.values.most_common(TOP_VALUES)
            record["categorical"] = {
                "distinct": len(self.values) + (1 if self.other else 0),
                "distinct_exact": not self.other,
                "top": [[value, n] for value, n in top],
                "other": self.other + sum(self.values.values()) - sum(n for _, n in top),
            }
        return record

    def _numeric_json(self) -> dict[str, Any]:
        sample = np.sort(self.reservoir[: min(self.n, RESERVOIR)])
        exact = self.n <= RESERVOIR
        quantiles = [float(np.quantile(sample, q)) if len(sample) else None for q in QUANTILES]
        if len(sample):
            quantiles[0], quantiles[-1] = self.min, self.max
        inner = (
            sorted({float(np.quantile(sample, q)) for q in DRIFT_QUANTILES}) if len(sample) else []
        )
        fractions = []
        if len(sample):
            bins = np.bincount(
                np.searchsorted(inner, sample, side="right"), minlength=len(inner) + 1
            )
            fractions = (bins / bins.sum()).tolist()
        return {
            "finite": self.n,
            "min": self.min if self.n else None,
            "max": self.max if self.n else None,
            "mean": self.mean if self.n else None,
            "std": math.sqrt(self.m2 / self.n) if self.n else None,
            "zeros": self.zeros,
            "non_finite": self.non_finite.count,
            "non_numeric": self.non_numeric.count,
            "quantiles": {"q": list(QUANTILES), "values": quantiles, "exact": exact},
            "histogram": self.hist.to_json(),
            "drift_bins": {"edges": inner, "fractions": fractions},
        }


def _mostly_numbers(arr: np.ndarray) -> bool:
    _, ok = _parse_each(arr[:1000])
    return int(ok.sum()) * 2 >= len(ok)


def _parse_each(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.full(len(arr), np.nan)
    ok = np.zeros(len(arr), dtype=bool)
    for i, cell in enumerate(arr):
        try:
            values[i] = float(cell)
            ok[i] = True
        except ValueError:
            pass
    return values, ok


@dataclass
class CsvStatistics:
    statistics: dict[str, Any]  # the JSON record (``layerloom stats --json``)
    columns: dict[str, _Column]  # what the pass found, for a check to read


def default_delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() in (".tsv", ".tab") else ","


def csv_statistics(
    path: str | Path,
    *,
    delimiter: str | None = None,
    categorical: list[str] | None = None,
    target: str | None = None,
    watch: dict[str, Watch] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> CsvStatistics:
    """One streaming pass over a CSV/TSV file: its statistics, and what ``watch`` asked for."""
    path = Path(path)
    watch = watch or {}
    delimiter = delimiter or default_delimiter(path)
    ragged = Finding()
    rows = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = [cell.strip() for cell in next(reader, [])]
            if not header:
                raise DatasetError(f"{path.name} is empty")
            duplicates = sorted(n for n, c in Counter(header).items() if c > 1)
            if duplicates:
                raise DatasetError(f"{path.name} has more than one column named '{duplicates[0]}'")
            forced = {name: "categorical" for name in categorical or []}
            columns = [
                _Column(name, watch.get(name), forced.get(name), name == target) for name in header
            ]
            width = len(header)
            chunk: list[list[str]] = []
            lines: list[int] = []

            def flush() -> None:
                numbers = np.array(lines, dtype=np.int64)
                for column, cells in zip(columns, zip(*chunk, strict=True), strict=True):
                    column.add(cells, numbers)

            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip() and width > 1):
                    continue  # blank lines are not examples
                if len(row) != width:
                    ragged.add(np.array([reader.line_num]), [f"{len(row)} values"])
                    row = (row + [""] * width)[:width]
                chunk.append(row)
                lines.append(reader.line_num)
                if len(chunk) >= chunk_rows:
                    rows += len(chunk)
                    flush()
                    chunk.clear()
                    lines.clear()
            if chunk:
                rows += len(chunk)
                flush()
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path.name} is not UTF-8 text ({error.reason})") from None
    except csv.Error as error:
        raise DatasetError(f"{path.name}: {error}") from None
    except OSError as error:
        raise DatasetError(f"cannot read {path}: {error.strerror or error}") from None
    record: dict[str, Any] = {
        "kind": "csv",
        "path": str(path),
        "rows": rows,
        "columns": header,
        "target": target if target in header else None,
        "ragged_rows": {"count": ragged.count, "rows": ragged.rows},
        "features": [column.to_json() for column in columns],
    }
    labels = next((c for c in columns if c.name == target), None)
    balanced = labels is not None and not labels.other and 0 < len(labels.values) <= TOP_VALUES
    record["class_balance"] = dict(labels.values.most_common()) if balanced else None
    return CsvStatistics(record, {c.name: c for c in columns})
