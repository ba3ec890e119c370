"""Preparing a remote host: a runtime venv with this very Layerloom, and checking it.

``setup`` makes ``WORKDIR/venv`` on the host with the host's ``python3`` (3.11 or newer), copies
this machine's Layerloom wheel over SSH, and installs it with its pinned dependencies from the
host's package index, or only from a folder of wheels (``wheelhouse``) for hosts without one.
``check`` asks the host's runtime what it has (``backends.probe``) and refuses a version mismatch.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from layerloom.backends.remote import RemoteBackend
from layerloom.backends.remotes import Remote
from layerloom.backends.ssh import SSHError
from layerloom.nodes.errors import LayerloomError

Progress = Callable[[str], None]
# On Python 3.11 the last JAX is 0.10.2 (jax >= 0.11 needs Python 3.12); it wants libtpu 0.0.42.
TPU_PACKAGES = {"3.11": ["jax[tpu]==0.10.2"], "default": ["jax[tpu]"]}


def local_version() -> str:
    try:
        return metadata.version("layerloom")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def local_wheel(out_dir: Path) -> Path:
    """A wheel of the Layerloom running here: built from its source tree when installed editable,
    otherwise repacked from the installed files (exactly what this machine runs)."""
    dist = metadata.distribution("layerloom")
    direct = dist.read_text("direct_url.json")
    source = json.loads(direct) if direct else {}
    if source.get("dir_info", {}).get("editable"):
        folder = source["url"].removeprefix("file://")
        built = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
            + ["-w", str(out_dir), folder],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if built.returncode != 0:
            raise LayerloomError(f"cannot build Layerloom's wheel from {folder}: {built.stderr}")
        return next(out_dir.glob("layerloom-*.whl"))
    wheel = out_dir / f"layerloom-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in dist.files or []:
            path = Path(dist.locate_file(file))
            if file.parts[0] == ".." or "__pycache__" in file.parts or not path.is_file():
                continue  # scripts live outside site-packages; pip makes them again
            archive.write(path, str(file))
    return wheel


def check(remote: Remote) -> dict[str, Any]:
    """Reach the host (its key verified), ask its runtime what it has; refuse a mismatch."""
    backend = RemoteBackend(remote)
    found = backend.probe()
    mine = local_version()
    if found.get("layerloom") != mine:
        raise LayerloomError(
            f"{remote.name} runs Layerloom {found.get('layerloom')} but this machine runs "
            f"{mine}: run `layerloom remote setup {remote.name}` to install the same version"
        )
    wanted = remote.keras_backend
    if wanted != "auto" and wanted not in found.get("keras_backends", []):
        raise LayerloomError(f"{remote.name} has no {wanted} installed (keras backend {wanted})")
    return {**found, "host": remote.target.describe(), "name": remote.name}


def setup(remote: Remote, wheelhouse: Path | None = None, progress: Progress = print) -> str:
    """Make the host's runtime venv; return the Python it runs jobs with."""
    backend = RemoteBackend(remote)
    ssh, workdir = backend.ssh, backend._home_relative(remote.workdir)
    progress(f"connecting to {remote.target.describe()}")
    version = ssh.check("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
    major_minor = version.decode().strip()
    if tuple(int(p) for p in major_minor.split(".")) < (3, 11):
        raise LayerloomError(f"{remote.name} has Python {major_minor}; Layerloom needs 3.11+")
    progress(f"creating {remote.workdir}/venv (Python {major_minor})")
    env = backend.env_assignments()
    ssh.check(f"mkdir -p {workdir}/wheels && {env} python3 -m venv {workdir}/venv", timeout=300)
    with tempfile.TemporaryDirectory() as scratch:
        wheel = local_wheel(Path(scratch))
        progress(f"copying {wheel.name}")
        ssh.check(f"cat > {workdir}/wheels/{shlex.quote(wheel.name)}", input=wheel.read_bytes())
    pip = f"{env} {workdir}/venv/bin/python -m pip install --disable-pip-version-check -q"
    index = ""
    if wheelhouse is not None:
        progress(f"copying the wheelhouse {wheelhouse}")
        for file in sorted(Path(wheelhouse).glob("*.whl")):
            ssh.check(
                f"mkdir -p {workdir}/wheelhouse && cat > {workdir}/wheelhouse/{shlex.quote(file.name)}",
                input=file.read_bytes(),
                timeout=1800,
            )
        index = f" --no-index --find-links {workdir}/wheelhouse --find-links {workdir}/wheels"
    target = f"{workdir}/wheels/{shlex.quote(wheel.name)}"
    progress("installing Layerloom and its pinned runtime packages (TensorFlow is large)")
    try:
        # This very build first (a same-numbered one already there must not shadow it), then
        # whatever of its dependencies the venv still lacks.
        ssh.check(f"{pip}{index} --no-deps --force-reinstall {target}", timeout=3600)
        ssh.check(f"{pip}{index} {target}", timeout=3600)
        if remote.accelerator == "tpu":
            extra = TPU_PACKAGES.get(major_minor, TPU_PACKAGES["default"])
            progress(f"installing {' '.join(extra)} for the TPU")
            ssh.check(f"{pip}{index} " + " ".join(shlex.quote(e) for e in extra), timeout=3600)
    except SSHError as error:
        raise LayerloomError(f"installing on {remote.name} failed: {error}") from error
    progress("done")
    return f"{remote.workdir}/venv/bin/python"
