"""How long reading a 100,000-column CSV header takes (issue 15: the duplicate check was quadratic,
248 s). Run: .venv/bin/python bench/csv_header.py [COLUMNS]"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

from layerloom.nodes.datasets import open_source


def main(columns: int = 100_000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wide.csv"
        header = [f"c{i}" for i in range(columns)] + ["y"]
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([[1] * len(header)] * 3)
        start = time.perf_counter()
        table = open_source({"kind": "csv", "path": str(path), "target": "y"}).table()
        seconds = time.perf_counter() - start
    print(f"{len(table.header):,} columns, 3 rows: read and checked in {seconds:.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
