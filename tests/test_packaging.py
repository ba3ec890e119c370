"""The package as a user gets it: one ``layerloom`` package in site-packages, nothing generic
beside it, and a wheel that works when installed (not editable) into a fresh environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
MAPPED = ("app", "nodes", "backends", "exporters", "resources")
NOT_SOURCES = (
    ".git",
    ".venv",
    "node_modules",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.loom",
)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_folder_with_an_init_is_listed_as_a_layerloom_package() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {"layerloom"} | {
        "layerloom." + ".".join(init.parent.relative_to(ROOT).parts)
        for name in MAPPED
        for init in (ROOT / name).rglob("__init__.py")
    }
    assert listed == on_disk


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = out / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    result = subprocess.run(
        [str(PYTHON), "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("layerloom-*.whl")
    return built


def test_the_wheel_holds_only_the_layerloom_package_and_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"layerloom"}
    for expected in (
        "layerloom/__main__.py",
        "layerloom/app/cli/__init__.py",
        "layerloom/backends/worker.py",
        "layerloom/exporters/web/index.html",
        "layerloom/resources/templates/small_cnn.json",
        "layerloom/resources/icons/",
        # Help > User Guide reads the guide and its screenshots from the package
        "layerloom/resources/docs/user-guide.md",
        "layerloom/resources/docs/images/editor.png",
    ):
        assert any(name.startswith(expected) for name in names), expected
    assert not any("/tests/" in name or name.startswith("tests/") for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "layerloom = layerloom.app.cli:main" in text
    assert "layerloom.nodes.catalog.core:SPECS" in text


@pytest.fixture(scope="module")
def fresh_install(wheel: Path, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed (not editable). Its third-party
    packages come from this environment through a path file, so no download is needed; the
    editable install of this checkout is not visible there."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([str(PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = subprocess.run(
        [str(PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "third_party.pth").write_text(ours + "\n", encoding="utf-8")
    result = subprocess.run(
        [str(PYTHON), "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
        + ["--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return venv


def _fresh(venv: Path, cwd: Path, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        [str(venv / "bin" / "layerloom"), *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_installed_package_is_the_wheel_not_this_checkout(fresh_install, tmp_path) -> None:
    probe = "import layerloom.app.cli as m; print(m.__file__)"
    result = subprocess.run(
        [str(fresh_install / "bin" / "python"), "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(fresh_install) in result.stdout and str(ROOT) not in result.stdout


@pytest.mark.keras
def test_a_fresh_install_creates_trains_and_exports_from_any_folder(
    fresh_install, tmp_path
) -> None:
    # A folder with its own app.py and nodes/ must not shadow anything of Layerloom's.
    (tmp_path / "app.py").write_text("raise SystemExit('the wrong app was imported')\n")
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "__init__.py").write_text("raise SystemExit('the wrong nodes')\n")
    templates = _fresh(fresh_install, tmp_path, "templates")
    assert templates.returncode == 0, templates.stderr
    assert "mlp_classifier" in templates.stdout
    assert (
        _fresh(fresh_install, tmp_path, "new", "p.loom", "--template", "mlp_classifier").returncode
        == 0
    )
    trained = _fresh(fresh_install, tmp_path, "train", "p.loom", "--epochs", "1")
    assert trained.returncode == 0, trained.stderr
    exported = _fresh(fresh_install, tmp_path, "export", "p.loom", "--target", "keras", "-o", "out")
    assert exported.returncode == 0, exported.stderr
    assert list((tmp_path / "out").glob("*.keras"))
    module = subprocess.run(
        [str(fresh_install / "bin" / "python"), "-m", "layerloom", "runs", "p.loom"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert module.returncode == 0, module.stderr
    assert "finished" in module.stdout
