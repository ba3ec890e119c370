"""Start-up as a user gets it: a real process, a real X11 window under Xvfb, no TensorFlow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "DISPLAY"))}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    (tmp_path / "runtime").mkdir(mode=0o700, exist_ok=True)
    env.update(extra)
    return env


def test_gui_modules_do_not_import_tensorflow(tmp_path):
    code = (
        "import sys, layerloom.app.gui.app, layerloom.app.gui.main_window;"
        "import layerloom.app.gui.inspector, layerloom.app.gui.palette;"
        "heavy = [m for m in ('tensorflow', 'keras', 'tf2onnx', 'onnxruntime') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=_env(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def xvfb_display():
    """A private Xvfb server on a free display (Xvfb picks it and reports it on a pipe)."""
    if shutil.which("Xvfb") is None:
        pytest.skip(
            "Xvfb is not installed (Debian: apt-get install xvfb libxcb-icccm4 libxcb-keysyms1)"
        )
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        assert number.isdigit(), "Xvfb did not report a display"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_app_shows_a_real_x11_window_under_xvfb(xvfb_display, tmp_path):
    from layerloom.app.workbench import create_project

    project = tmp_path / "cnn.loom"
    create_project(project, "small_cnn").close()
    env = _env(tmp_path, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    result = subprocess.run(
        [sys.executable, "-m", "layerloom.app.gui", "--smoke-test", str(project)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "window shown in" in result.stdout, output
    assert "platform: xcb" in result.stdout, output
    assert "heavy modules: none" in result.stdout, output
    assert "title: cnn.loom — Layerloom" in result.stdout, output
    print(result.stdout)
