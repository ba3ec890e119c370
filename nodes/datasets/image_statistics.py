"""Statistics of an image folder (one sub-folder per class) from file headers alone: image sizes,
channels (modes), class balance and corrupt files, in pure Python (no TensorFlow, no decoding)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from layerloom.nodes.datasets.image_headers import file_format
from layerloom.nodes.datasets.image_sizes import image_size
from layerloom.nodes.datasets.images import IMAGE_SUFFIXES
from layerloom.nodes.errors import DatasetError

MODES = {1: "grey", 2: "grey+alpha", 3: "colour", 4: "colour+alpha"}
CORRUPT_SHOWN = 50  # corrupt files listed by name (all are counted)
SIZES_SHOWN = 20


def image_statistics(folder: str | Path) -> dict[str, Any]:
    root = Path(folder)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    sizes: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    corrupt: list[str] = []
    corrupt_count = files = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            if filename.startswith(".") or not filename.lower().endswith(IMAGE_SUFFIXES):
                continue
            path = Path(dirpath) / filename
            rel = path.relative_to(root).as_posix()
            files += 1
            classes[rel.split("/")[0] if "/" in rel else ""] += 1
            kind = file_format(path)
            size = image_size(path) if kind else None
            if kind is None or size is None:
                corrupt_count += 1
                if len(corrupt) < CORRUPT_SHOWN:
                    corrupt.append(rel)
                continue
            height, width, channels = size
            sizes[f"{height}x{width}"] += 1
            modes[MODES.get(channels, f"{channels} channels")] += 1
            formats[kind] += 1
    if not files:
        raise DatasetError(f"{root} has no images ({', '.join(IMAGE_SUFFIXES)})")
    return {
        "kind": "images",
        "path": str(root),
        "files": files,
        "class_balance": dict(classes.most_common()),
        "sizes": dict(sizes.most_common(SIZES_SHOWN)),
        "distinct_sizes": len(sizes),
        "modes": dict(modes.most_common()),
        "formats": dict(formats.most_common()),
        "corrupt": {"count": corrupt_count, "files": corrupt},
    }
