"""A dataset's schema (inferred from training statistics, editable) and the anomalies of new data.

The schema is JSON kept in the project setting ``"data_schema"``; the training statistics it was
inferred from are kept in ``"data_statistics"`` (drift compares against them)::

    {"format": 1, "inferred_from": "data.csv", "rows": 500, "target": "label",
     "features": [{"name": "age", "type": "numeric", "required": true, "missing": false,
                   "min": 12.0, "max": 80.0, "values": null, "drift": 0.1}, ...]}

Inferred: every training column is required; ``missing`` allowed when the training data had
missing cells; numeric ``min``/``max`` are the training range widened by ``RANGE_MARGIN`` of its
span on each side (so a fresh sample of the same distribution passes; set exact bounds by hand);
categorical ``values`` are the training values when there are at most ``MAX_DOMAIN`` of them
(else any value is allowed). Drift thresholds default to ``DRIFT_NUMERIC`` (Jensen–Shannon
divergence, log base 2, so 0..1, over ten bins at the training deciles) and ``DRIFT_CATEGORICAL``
(L-infinity distance between the value frequencies), as TFDV's drift comparators measure;
``drift: null`` turns a column's check off. Drift is only judged on columns with at least
``DRIFT_MIN_COUNT`` values in the new data: fewer cannot tell drift from chance.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from layerloom.nodes.datasets.statistics import CsvStatistics, Watch
from layerloom.nodes.errors import DatasetError

SCHEMA_SETTING = "data_schema"
STATISTICS_SETTING = "data_statistics"
RANGE_MARGIN = 0.1
MAX_DOMAIN = 1000
DRIFT_NUMERIC = 0.1
DRIFT_CATEGORICAL = 0.2
DRIFT_MIN_COUNT = 30
MAX_LABELS = 50  # a target with more distinct values is a number to regress, not classes


@dataclass(frozen=True)
class Anomaly:
    column: str | None  # None for file-level anomalies
    kind: str  # "missing_column", "extra_column", "type_change", "unseen_category", ...
    message: str  # one line naming the column and example rows
    rows: list[int]  # example file line numbers (the header is line 1), may be empty

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "message": self.message,
            "rows": self.rows,
        }


def quoted(text: str) -> str:
    """A name or value inside a one-line message: quoted, newlines and controls escaped."""
    return json.dumps(text, ensure_ascii=False)


def infer_schema(statistics: dict[str, Any]) -> dict[str, Any]:
    features = []
    for record in statistics["features"]:
        feature: dict[str, Any] = {
            "name": record["name"],
            "type": record["type"],
            "required": True,
            "missing": record["missing"] > 0,
            "min": None,
            "max": None,
            "values": None,
            "drift": None,
        }
        numeric, categorical = record.get("numeric"), record.get("categorical")
        if record["type"] == "numeric" and numeric and numeric["finite"]:
            low, high = numeric["min"], numeric["max"]
            margin = RANGE_MARGIN * ((high - low) or abs(low) or 1.0)
            feature.update(min=low - margin, max=high + margin, drift=DRIFT_NUMERIC)
        elif record["type"] == "categorical" and categorical:
            if categorical["distinct_exact"] and categorical["distinct"] <= MAX_DOMAIN:
                feature["values"] = sorted(value for value, _ in categorical["top"])
            feature["drift"] = DRIFT_CATEGORICAL
        if record["name"] == statistics.get("target") and statistics.get("class_balance"):
            labels = statistics["class_balance"]
            if len(labels) <= MAX_LABELS:  # class labels, even when they are numbers
                feature.update(type="categorical", min=None, max=None, drift=DRIFT_CATEGORICAL)
                feature["values"] = sorted(labels)
        features.append(feature)
    return {
        "format": 1,
        "inferred_from": statistics["path"],
        "rows": statistics["rows"],
        "target": statistics.get("target"),
        "features": features,
    }


# -- editing -------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    if text.lower() in ("", "none", "null", "off"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"'{text}' is not a number (or 'none')") from None
    if not math.isfinite(value):
        raise DatasetError(f"'{text}' is not a finite number")
    return value


def _flag(text: str) -> bool:
    if text.lower() in ("true", "yes", "1", "on"):
        return True
    if text.lower() in ("false", "no", "0", "off"):
        return False
    raise DatasetError(f"'{text}' is not true or false")


def _values(text: str) -> list[str] | None:
    if text.lower() in ("", "any", "none"):
        return None
    return sorted({v.strip() for v in text.split(",") if v.strip()})


def _type(text: str) -> str:
    if text not in ("numeric", "categorical"):
        raise DatasetError(f"type '{text}' is neither numeric nor categorical")
    return text


EDITS = {
    "min": _number,
    "max": _number,
    "drift": _number,
    "values": _values,
    "required": _flag,
    "missing": _flag,
    "type": _type,
}


def edit_schema(schema: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """``schema`` with ``COL.KEY=VALUE`` assignments applied (the column name may hold dots)."""
    features = {f["name"]: dict(f) for f in schema["features"]}
    for assignment in assignments:
        # The column is everything before the last ".KEY=": names may hold dots and "=".
        match = re.fullmatch(rf"(.+)\.({'|'.join(EDITS)})=(.*)", assignment, flags=re.DOTALL)
        if match is None:
            raise DatasetError(
                f"cannot read {quoted(assignment)}: write COLUMN.KEY=VALUE with KEY one of"
                f" {', '.join(EDITS)}"
            )
        column, key, value = match.groups()
        if column not in features:
            raise DatasetError(
                f"the schema has no column {quoted(column)}; columns:"
                f" {', '.join(quoted(n) for n in list(features)[:10])}"
                + (f", … {len(features) - 10} more" if len(features) > 10 else "")
            )
        try:
            features[column][key] = EDITS[key](value.strip())
        except DatasetError as error:
            raise DatasetError(f"{quoted(assignment)}: {error}") from None
        feature = features[column]
        if feature["min"] is not None and feature["max"] is not None:
            if feature["min"] > feature["max"]:
                raise DatasetError(f"{quoted(column)}: min {feature['min']} > max {feature['max']}")
    return {**schema, "features": list(features.values())}


# -- checking ------------------------------------------------------------------------------------


def watches(schema: dict[str, Any], training: dict[str, Any] | None) -> dict[str, Watch]:
    """What the statistics pass over new data must look for, per schema column."""
    drift_edges = {}
    for record in (training or {}).get("features", []):
        if record.get("numeric"):
            drift_edges[record["name"]] = record["numeric"]["drift_bins"]["edges"]
    result = {}
    for feature in schema["features"]:
        values = feature["values"]
        result[feature["name"]] = Watch(
            type=feature["type"] if feature["type"] in ("numeric", "categorical") else None,
            min=feature["min"],
            max=feature["max"],
            values=frozenset(values) if values is not None else None,
            edges=drift_edges.get(feature["name"]) or None,
        )
    return result


def _rows(rows: list[int]) -> str:
    return "row " + str(rows[0]) if len(rows) == 1 else "rows " + ", ".join(map(str, rows))


def _examples(finding: Any) -> str:
    shown = ", ".join(quoted(v) for v in dict.fromkeys(finding.examples))
    return f"{finding.count} value(s), e.g. {shown} ({_rows(finding.rows)})"


def find_anomalies(
    schema: dict[str, Any], training: dict[str, Any] | None, new: CsvStatistics
) -> list[Anomaly]:
    found: list[Anomaly] = []
    stats = new.statistics
    name = stats["path"]
    ragged = stats["ragged_rows"]
    if ragged["count"]:
        found.append(
            Anomaly(
                None,
                "ragged_rows",
                f"{ragged['count']} row(s) whose number of values differs from the header"
                f" ({_rows(ragged['rows'])})",
                ragged["rows"],
            )
        )
    features = {f["name"]: f for f in schema["features"]}
    for column in stats["columns"]:
        if column not in features:
            found.append(
                Anomaly(column, "extra_column", f"column {quoted(column)} is not in the schema", [])
            )
    trained = {r["name"]: r for r in (training or {}).get("features", [])}
    for feature in schema["features"]:
        column = feature["name"]
        if column not in new.columns:
            if feature["required"]:
                found.append(
                    Anomaly(
                        column,
                        "missing_column",
                        f"required column {quoted(column)} is missing from {quoted(name)}",
                        [],
                    )
                )
            continue
        found.extend(_column_anomalies(feature, new, trained.get(column), schema.get("target")))
    return found


def _column_anomalies(
    feature: dict[str, Any], new: CsvStatistics, trained: dict[str, Any] | None, target: str | None
) -> list[Anomaly]:
    found = []
    column = feature["name"]
    acc = new.columns[column]
    where = f"column {quoted(column)}"

    def add(kind: str, text: str, finding: Any) -> None:
        found.append(Anomaly(column, kind, f"{where}: {text}", list(finding.rows)))

    if acc.missing.count and not feature["missing"]:
        add(
            "missing_values",
            f"{acc.missing.count} missing ({_rows(acc.missing.rows)})",
            acc.missing,
        )
    if acc.non_numeric.count:
        add("type_change", f"not numbers: {_examples(acc.non_numeric)}", acc.non_numeric)
    if acc.non_finite.count:
        add("non_finite", f"NaN/inf: {_examples(acc.non_finite)}", acc.non_finite)
    if acc.below.count:
        add("out_of_range", f"below min {feature['min']:g}: {_examples(acc.below)}", acc.below)
    if acc.above.count:
        add("out_of_range", f"above max {feature['max']:g}: {_examples(acc.above)}", acc.above)
    if acc.unseen.count:
        if column == target:
            add(
                "label_set_change", f"labels never in training: {_examples(acc.unseen)}", acc.unseen
            )
        else:
            add("unseen_category", f"values not in the schema: {_examples(acc.unseen)}", acc.unseen)
    if column == target and feature["values"] is not None and acc.count:
        absent = sorted(set(feature["values"]) - set(acc.values))
        if absent and not acc.other:
            shown = ", ".join(quoted(v) for v in absent[:10])
            found.append(
                Anomaly(column, "label_set_change", f"{where}: training labels absent: {shown}", [])
            )
    drift = _drift(feature, acc, trained)
    if drift is not None:
        measure, distance = drift
        if distance > feature["drift"]:
            found.append(
                Anomaly(
                    column,
                    "drift",
                    f"{where}: drifted from the training data ({measure} {distance:.3f} >"
                    f" threshold {feature['drift']:g})",
                    [],
                )
            )
    return found


def _drift(feature: dict[str, Any], acc: Any, trained: dict[str, Any] | None) -> Any:
    if feature["drift"] is None or trained is None or acc.count < DRIFT_MIN_COUNT:
        return None
    if feature["type"] == "numeric" and acc.drift is not None and trained.get("numeric"):
        p = np.asarray(trained["numeric"]["drift_bins"]["fractions"], dtype=float)
        if acc.drift.sum() == 0 or len(p) != len(acc.drift):
            return None
        return "Jensen-Shannon divergence", js_divergence(p, acc.drift / acc.drift.sum())
    if feature["type"] == "categorical" and trained.get("categorical"):
        reference = dict(trained["categorical"]["top"])
        total_p = sum(reference.values()) + trained["categorical"]["other"]
        total_q = sum(acc.values.values()) + acc.other
        if not total_p or not total_q:
            return None
        keys = set(reference) | set(acc.values)
        distance = max(
            abs(reference.get(k, 0) / total_p - acc.values.get(k, 0) / total_q) for k in keys
        )
        return "L-infinity distance", distance
    return None


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence of two distributions, log base 2 (0 equal .. 1 disjoint)."""
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / m[mask])))

    return 0.5 * kl(p) + 0.5 * kl(q)
