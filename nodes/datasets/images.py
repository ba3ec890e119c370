"""Image folders: one sub-folder per class, images of any size and format TensorFlow decodes.

Listing only stats files (names, sizes, mtimes); images are decoded and resized to the Input's
(H, W, C) inside the tf.data pipeline, so a folder of 100k images streams from disk. ``check``
reads every file's header and end up front (pure Python, no TensorFlow) to catch a broken file
early, by path; ``make_pipelines`` decodes those same files with TensorFlow before training starts.
The fingerprint hashes the sorted relative paths with their sizes and mtimes (not the bytes:
reading every image to hash it would cost as much as an epoch).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from layerloom.nodes.datasets.base import (
    DataInfo,
    DataSource,
    Preview,
    contract_basics,
    register_source,
)
from layerloom.nodes.datasets.contract import IMAGE_RESIZE, ImageRule, InputContract
from layerloom.nodes.datasets.fit import Target, fit_target, output_of
from layerloom.nodes.datasets.image_headers import file_format
from layerloom.nodes.errors import DatasetError
from layerloom.nodes.plan import BuildPlan
from layerloom.nodes.spec import format_shape

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
SAMPLED_PER_CLASS = 3  # files per class TensorFlow decodes before training starts
MAX_NAMED = 20  # bad files named in one message


def decode_image(data: Any, shape: tuple[int, int, int], dtype: Any) -> Any:
    """Encoded image bytes (a string tensor) as one model input of ``shape`` (height, width,
    channels): decoded to that many channels, resized bilinearly (``contract.IMAGE_RESIZE``), values
    0..255, cast to ``dtype`` (a tf.DType; rounded first for integer Inputs). The one way images
    become inputs: training's pipeline and ``layerloom predict`` both call it."""
    import tensorflow as tf

    height, width, channels = shape
    raw = tf.io.decode_image(data, channels=channels, expand_animations=False)
    # Values stay 0..255: rescaling is a layer node in the graph, so exports include it.
    image = tf.image.resize(raw, (height, width), method=IMAGE_RESIZE)
    image = tf.round(image) if dtype.is_integer else image
    return tf.cast(image, dtype)


@dataclass(frozen=True)
class Listing:
    class_names: list[str]
    files: list[str]  # paths relative to the folder, "/"-separated, class by class, sorted
    labels: np.ndarray
    sizes: list[int]
    mtimes: list[int]  # nanoseconds


@register_source
class ImageFolderSource(DataSource):
    kind = "images"
    rank = 20
    label = "Image folder"
    locator = "folder"
    what = "an image folder"
    cli_help = "folder: a sub-folder per class"

    def __init__(self, spec: dict[str, Any], base_dir: str | Path | None = None) -> None:
        super().__init__(spec, base_dir)
        self._listing: Listing | None = None
        self._sampled = False  # the first files of each class were read and look whole
        self._decoded: set[int] = set()  # channel counts whose sample TensorFlow decoded

    def listing(self) -> Listing:
        if self._listing is None:
            self._listing = self._list(self.require_path(folder=True))
        return self._listing

    def _list(self, root: Path) -> Listing:
        classes = sorted(
            e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")
        )
        if not classes:
            raise DatasetError(
                f"{root.name} has no class folders; put each class's images in a sub-folder"
                " named after the class"
            )
        files, labels, sizes, mtimes = [], [], [], []
        for label, name in enumerate(classes):
            found = 0
            for folder, subfolders, filenames in os.walk(root / name):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                for filename in sorted(filenames):
                    if filename.startswith(".") or not filename.lower().endswith(IMAGE_SUFFIXES):
                        continue
                    stat = os.stat(os.path.join(folder, filename))
                    files.append(Path(folder, filename).relative_to(root).as_posix())
                    labels.append(label)
                    sizes.append(stat.st_size)
                    mtimes.append(stat.st_mtime_ns)
                    found += 1
            if not found:
                raise DatasetError(
                    f"{root.name}/{name} has no images ({', '.join(IMAGE_SUFFIXES)})"
                )
        return Listing(classes, files, np.array(labels, dtype=np.int32), sizes, mtimes)

    def count(self) -> int:
        return len(self.listing().files)

    def fingerprint(self) -> str:
        listing = self.listing()
        digest = hashlib.sha256()
        for rel, size, mtime in zip(listing.files, listing.sizes, listing.mtimes, strict=True):
            digest.update(f"{rel}\t{size}\t{mtime}\n".encode())
        return digest.hexdigest()

    def image_shape(self, plan: BuildPlan) -> tuple[int, int, int]:
        if len(plan.inputs) != 1:
            names = ", ".join(i.name for i in plan.inputs)
            raise DatasetError(
                f"{self.name} feeds one Input but the model has {len(plan.inputs)} ({names})"
            )
        plan_input = plan.inputs[0]
        shape = plan_input.shape
        if len(shape) != 3 or None in shape or shape[2] not in (1, 3, 4):
            raise DatasetError(
                f"{self.name} holds images but Input '{plan_input.name}' expects"
                f" {format_shape(shape)}; images need a fixed (height, width, 1, 3 or 4 channels)"
            )
        return shape[0], shape[1], shape[2]

    def check(self, plan: BuildPlan) -> DataInfo:
        height, width, channels = self.image_shape(plan)
        if self.task not in (None, "classification"):
            raise DatasetError(f"{self.name}: an image folder is a classification dataset")
        listing = self.listing()
        out = output_of(plan)
        target = Target(labels=listing.labels, class_names=listing.class_names)
        _, names, _ = fit_target(target, out, "classification", self.name)
        if not self._sampled:
            self._read_sample()
            self._sampled = True
        splits = self.split_indices()
        plan_input = plan.inputs[0]
        return DataInfo(
            kind=self.kind,
            task="classification",
            num_classes=len(listing.class_names),
            class_names=names,
            input_names=[plan_input.name],
            input_shapes={plan_input.name: [height, width, channels]},
            input_dtypes={plan_input.name: plan_input.dtype},
            target_shape=[],
            output_name=out.name,
            output_units=out.units,
            num_train=len(splits["train"]),
            num_validation=len(splits["validation"]),
            num_test=len(splits["test"]),
        )

    def sample_files(self) -> list[str]:
        listing = self.listing()
        for rel, size in zip(listing.files, listing.sizes, strict=True):
            if size == 0:
                raise DatasetError(f"{self.name}/{rel} is empty (0 bytes)")
        first = [
            np.flatnonzero(listing.labels == label)[:SAMPLED_PER_CLASS]
            for label in range(len(listing.class_names))
        ]
        return [listing.files[i] for i in np.concatenate(first)]

    def _unreadable(self, rel: str, channels: int | None = None) -> DatasetError:
        what = f" with {channels} channel(s)" if channels else ""
        return DatasetError(
            f"{self.name}/{rel} is not a readable image (PNG, JPEG, GIF or BMP{what})"
        )

    def _read_sample(self) -> None:
        """Every file's signature and end (headers only: ~1 KB a file), so a broken image far
        down the folder is named now rather than met mid-training; each bad file by path."""
        root = self.require_path(folder=True)
        self.sample_files()  # empty files first: the plainest message
        bad = []
        for rel in self.listing().files:
            try:
                whole = file_format(root / rel) is not None
            except OSError:
                whole = False
            if not whole:
                bad.append(rel)
        if len(bad) == 1:
            raise self._unreadable(bad[0])
        if bad:
            shown = ", ".join(f"{self.name}/{rel}" for rel in bad[:MAX_NAMED])
            more = f" and {len(bad) - MAX_NAMED} more" if len(bad) > MAX_NAMED else ""
            raise DatasetError(
                f"{len(bad)} files are not readable images (PNG, JPEG, GIF or BMP): {shown}{more}"
            )

    def _decode_sample(self, channels: int) -> None:
        import tensorflow as tf

        root = self.require_path(folder=True)
        for rel in self.sample_files():
            try:
                data = tf.io.read_file(str(root / rel))
                tf.io.decode_image(data, channels=channels, expand_animations=False)
            except (tf.errors.OpError, ValueError):
                raise self._unreadable(rel, channels) from None

    def elements(self, indices: np.ndarray, plan: BuildPlan, info: DataInfo) -> Any:
        import tensorflow as tf

        listing = self.listing()
        root = self.require_path(folder=True)
        paths = np.array([str(root / listing.files[i]) for i in indices])
        return tf.data.Dataset.from_tensor_slices((paths, listing.labels[indices]))

    def decoder(self, plan: BuildPlan, info: DataInfo) -> Callable[..., Any] | None:
        import tensorflow as tf

        height, width, channels = self.image_shape(plan)
        dtype = tf.as_dtype(plan.inputs[0].dtype)
        if channels not in self._decoded:  # TensorFlow is loaded now: decode the sample for real
            self._decode_sample(channels)
            self._decoded.add(channels)

        def decode(path: Any, label: Any) -> tuple[Any, Any]:
            return decode_image(tf.io.read_file(path), (height, width, channels), dtype), label

        return decode

    def input_contract(self, plan: BuildPlan, info: DataInfo) -> InputContract:
        height, width, channels = self.image_shape(plan)
        return InputContract(
            kind="image",
            image=ImageRule(height, width, channels),
            **contract_basics(plan, info),
        )

    def undecodable(self, plan: BuildPlan) -> list[str]:
        """Every file TensorFlow cannot decode, by path (each file read once; only after a
        failure, so training never pays for it)."""
        import tensorflow as tf

        _, _, channels = self.image_shape(plan)
        root = self.require_path(folder=True)
        bad = []
        for rel in self.listing().files:
            try:
                data = tf.io.read_file(str(root / rel))
                tf.io.decode_image(data, channels=channels, expand_animations=False)
            except (tf.errors.OpError, ValueError):
                bad.append(f"{self.name}/{rel}")
        return bad

    def preview(self, rows: int = 5) -> Preview:
        listing = self.listing()
        counts = np.bincount(listing.labels, minlength=len(listing.class_names)).tolist()
        first = [
            [rel, listing.class_names[listing.labels[i]], f"{listing.sizes[i]:,} bytes"]
            for i, rel in enumerate(listing.files[:rows])
        ]
        return Preview(
            kind=self.kind,
            path=str(self.path),
            count=self.count(),
            unit="images",
            classes=dict(zip(listing.class_names, counts, strict=True)),
            header=["file", "class", "size"],
            rows=first,
            notes=["images are decoded and resized to the Input's shape while training"],
        )
