"""Streaming statistics of a big CSV (issue 18): peak RSS and throughput of `layerloom stats`.

Writes a CSV of at least SIZE_GB (default 2.0) into a temporary folder (deleted afterwards), then
runs `layerloom stats --data FILE --json` on it in a child process and reports its wall time,
throughput and peak resident memory (the child's ru_maxrss). The file is 8 columns: 6 numeric, a
categorical one and a label. To write 2 GB quickly, one block of 200,000 random rows is formatted
once and written repeatedly with its first column shifted per block (so numeric statistics see
new values every block); parsing cost, the figure measured, does not depend on repetition.

Run: .venv/bin/python -m bench.data_stats [SIZE_GB]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LAYERLOOM = Path(sys.executable).parent / "layerloom"
BLOCK_ROWS = 200_000


def _block(rng: np.random.Generator) -> tuple[str, np.ndarray]:
    numbers = rng.normal(0, 1, size=(BLOCK_ROWS, 5))
    colours = rng.choice(["red", "green", "blue", "ochre"], BLOCK_ROWS)
    labels = rng.choice(["yes", "no"], BLOCK_ROWS)
    rest = [
        ",".join(f"{v:.6f}" for v in row) + f",{c},{y}"
        for row, c, y in zip(numbers, colours, labels, strict=True)
    ]
    return "\n".join(rest), rng.uniform(0, 100, BLOCK_ROWS)


def write_csv(path: Path, size_gb: float) -> int:
    rng = np.random.default_rng(0)
    tail, first = _block(rng)
    tails = tail.split("\n")
    rows = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id_value,a,b,c,d,e,colour,label\n")
        block = 0
        while path.stat().st_size < size_gb * 1e9 if block else True:
            shifted = first + block  # new numbers in the first column every block
            handle.write("\n".join(f"{v:.4f},{t}" for v, t in zip(shifted, tails, strict=True)))
            handle.write("\n")
            handle.flush()
            rows += BLOCK_ROWS
            block += 1
    return rows


def main(size_gb: float = 2.0) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "big.csv"
        start = time.perf_counter()
        rows = write_csv(data, size_gb)
        size = data.stat().st_size
        print(f"wrote {size / 1e9:.2f} GB, {rows:,} rows in {time.perf_counter() - start:.0f} s")
        project = Path(folder) / "p.loom"
        subprocess.run([LAYERLOOM, "new", project, "--template", "mlp_classifier"], check=True,
                       capture_output=True)  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(
            [LAYERLOOM, "stats", project, "--data", data, "--json"],
            check=True,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        stats = json.loads(done.stdout)
        first = stats["features"][0]["numeric"]
        print(f"layerloom stats: {stats['rows']:,} rows in {seconds:.1f} s")
        print(f"throughput: {size / 1e6 / seconds:.1f} MB/s, {stats['rows'] / seconds:,.0f} rows/s")
        print(f"peak RSS of the stats process: {peak_mb:.0f} MB")
        print(f"id_value: mean {first['mean']:.3f}, min {first['min']:.3f}, max {first['max']:.3f}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
