"""What a host can train with, printed as one JSON object: ``python -m layerloom.backends.probe``.

Run on a remote by ``layerloom remote check``. It never imports TensorFlow or JAX (seconds each):
it asks the Python packaging metadata what is installed and the system what devices there are.
"""

from __future__ import annotations

import glob
import json
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _layerloom_version() -> str | None:
    """The version of the Layerloom this Python really imports: the metadata installed beside it
    (another one earlier on sys.path, say through PYTHONPATH, must not answer for it)."""
    import layerloom

    site = Path(layerloom.__file__).resolve().parent.parent
    for info in sorted(site.glob("layerloom-*.dist-info")):
        return metadata.Distribution.at(info).version
    return _version("layerloom")


def _gpus() -> list[str]:
    if not shutil.which("nvidia-smi"):
        return []
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listed.stdout.splitlines() if line.startswith("GPU ")]


def _tpus() -> list[str]:
    # TPU VMs expose their chips as /dev/accel* (v2-v4) or vfio devices (v5e and later).
    return sorted(glob.glob("/dev/accel*")) or sorted(glob.glob("/dev/vfio/[0-9]*"))


def probe() -> dict[str, Any]:
    gpus, tpus = _gpus(), _tpus()
    keras_backends = [
        name for name, module in (("tensorflow", "tensorflow"), ("jax", "jax")) if find_spec(module)
    ]
    accelerator = "tpu" if tpus else "gpu" if gpus else "cpu"
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "layerloom": _layerloom_version(),
        "keras": _version("keras"),
        "tensorflow": _version("tensorflow") or _version("tensorflow-cpu"),
        "jax": _version("jax"),
        "keras_backends": keras_backends,
        "accelerator": accelerator,
        "devices": tpus or gpus or ["CPU"],
        "device_count": len(tpus or gpus) or 1,
        "machine": platform.machine(),
        "system": platform.system(),
    }


if __name__ == "__main__":
    print(json.dumps(probe()))
