"""Keras-safe names for what a user may call anything: project files and nodes.

TensorFlow takes only ``[A-Za-z0-9.][A-Za-z0-9_.-]*`` as a name scope, and Keras names layers,
weights, signatures and exported tensors after it, so a node called ``café`` or ``my layer``
compiled but could never train or export. A name that already fits is kept as it is (existing
projects, checkpoints and exports keep their names); any other becomes an ASCII spelling of it
plus a short hash of the original, which is deterministic (the same name always gives the same
Keras name, in the GUI, the worker and every export) and, through ``BuildPlan.node_names``,
reversible for display.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

SAFE = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\-]*")
RULE = "letters, digits, '_', '.' and '-', starting with a letter, digit or '.'"


def is_keras_safe(name: str) -> bool:
    return SAFE.fullmatch(name) is not None


def keras_name(name: str, digits: int = 8) -> str:
    """``name`` itself when TensorFlow takes it, else e.g. ``cafe_3b1f0c2a`` for ``café``."""
    if is_keras_safe(name):
        return name
    # NFKD splits "é" into "e" + a combining accent, so Latin names stay readable.
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9_.\-]+", "_", ascii_text).strip("_.-")[:40] or "n"
    if not stem[0].isalnum():
        stem = f"n{stem}"
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:digits]
    return f"{stem}_{digest}"


def keras_names(names: list[str]) -> dict[str, str]:
    """Original -> Keras name for a set of names, unique across the set (a derived name that
    happens to equal another node's name takes a longer hash)."""
    taken = {name for name in names if is_keras_safe(name)}
    mapping = {name: name for name in taken}
    for name in names:
        if name in mapping:
            continue
        derived = keras_name(name)
        if derived in taken:
            derived = keras_name(name, digits=16)
        mapping[name] = derived
        taken.add(derived)
    return mapping
