"""Statistics and schema as TensorFlow Metadata protos (text format), the files TFDV and TFX read:
``DatasetFeatureStatisticsList`` (``stats.pbtxt``) and ``Schema`` (``schema.pbtxt``).

``tensorflow_metadata`` is imported when called (protobuf only, no TensorFlow).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def statistics_proto(statistics: dict[str, Any]) -> Any:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    result = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = result.datasets.add()
    dataset.name = Path(statistics["path"]).name
    if statistics["kind"] != "csv":
        dataset.num_examples = statistics.get("files", 0)
        return result
    dataset.num_examples = statistics["rows"]
    for record in statistics["features"]:
        feature = dataset.features.add()
        feature.path.step.append(record["name"])
        numeric, categorical = record.get("numeric"), record.get("categorical")
        if record["type"] == "numeric" and numeric:
            feature.type = statistics_pb2.FeatureNameStatistics.FLOAT
            stats = feature.num_stats
            _common(stats.common_stats, record)
            if numeric["finite"]:
                stats.mean, stats.std_dev = numeric["mean"], numeric["std"]
                stats.min, stats.max = numeric["min"], numeric["max"]
                stats.median = numeric["quantiles"]["values"][QUANTILE_MEDIAN]
                stats.num_zeros = numeric["zeros"]
                _histograms(stats, numeric, statistics_pb2.Histogram)
        else:
            feature.type = statistics_pb2.FeatureNameStatistics.STRING
            stats = feature.string_stats
            _common(stats.common_stats, record)
            if categorical:
                stats.unique = categorical["distinct"]
                for rank, (value, count) in enumerate(categorical["top"]):
                    top = stats.top_values.add()
                    top.value, top.frequency = value, count
                    bucket = stats.rank_histogram.buckets.add()
                    bucket.low_rank = bucket.high_rank = rank
                    bucket.label, bucket.sample_count = value, count
    return result


QUANTILE_MEDIAN = 4  # index of q=0.5 in statistics.QUANTILES


def _common(common: Any, record: dict[str, Any]) -> None:
    common.num_non_missing = record["count"]
    common.num_missing = record["missing"]
    common.min_num_values = common.max_num_values = 1
    common.avg_num_values = 1.0
    common.tot_num_values = record["count"]


def _histograms(stats: Any, numeric: dict[str, Any], histogram_type: Any) -> None:
    standard = stats.histograms.add()
    standard.type = histogram_type.STANDARD
    edges, counts = numeric["histogram"]["edges"], numeric["histogram"]["counts"]
    for low, high, count in zip(edges, edges[1:], counts, strict=False):
        bucket = standard.buckets.add()
        bucket.low_value, bucket.high_value, bucket.sample_count = low, high, count
    quantiles = stats.histograms.add()
    quantiles.type = histogram_type.QUANTILES
    values = numeric["quantiles"]["values"]
    qs = numeric["quantiles"]["q"]
    for i in range(len(values) - 1):
        bucket = quantiles.buckets.add()
        bucket.low_value, bucket.high_value = values[i], values[i + 1]
        bucket.sample_count = (qs[i + 1] - qs[i]) * numeric["finite"]


def schema_proto(schema: dict[str, Any]) -> Any:
    from tensorflow_metadata.proto.v0 import schema_pb2

    result = schema_pb2.Schema()
    for spec in schema["features"]:
        feature = result.feature.add()
        feature.name = spec["name"]
        if spec["required"]:
            feature.presence.min_count = 1
        feature.presence.min_fraction = 0.0 if spec["missing"] else 1.0
        feature.value_count.min = feature.value_count.max = 1
        if spec["type"] == "numeric":
            feature.type = schema_pb2.FLOAT
            if spec["min"] is not None:
                feature.float_domain.min = spec["min"]
            if spec["max"] is not None:
                feature.float_domain.max = spec["max"]
            if spec["drift"] is not None:
                feature.drift_comparator.jensen_shannon_divergence.threshold = spec["drift"]
        else:
            feature.type = schema_pb2.BYTES
            if spec["values"] is not None:
                domain = result.string_domain.add()
                domain.name = spec["name"]
                domain.value.extend(spec["values"])
                feature.domain = spec["name"]
            if spec["drift"] is not None:
                feature.drift_comparator.infinity_norm.threshold = spec["drift"]
    return result


def write_tfmd(
    folder: str | Path, statistics: dict[str, Any], schema: dict[str, Any] | None
) -> list[Path]:
    """Write ``stats.pbtxt`` (and ``schema.pbtxt``) into ``folder``, each via a temporary sibling."""
    from google.protobuf import text_format

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = {"stats.pbtxt": statistics_proto(statistics)}
    if schema is not None:
        files["schema.pbtxt"] = schema_proto(schema)
    written = []
    for name, proto in files.items():
        target = out / name
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text_format.MessageToString(proto, as_utf8=True))
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
