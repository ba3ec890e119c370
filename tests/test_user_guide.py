"""docs/user-guide.md and its screenshots: the topics a newcomer looks for, the images small and
shown (app/gui/doc_screenshots.py takes them of the real editor under Xvfb)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "user-guide.md"
IMAGES = ROOT / "docs" / "images"
MAX_BYTES = 150 * 1024


def test_the_guide_covers_what_a_newcomer_looks_for() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == [
        "Build a model",
        "Bring your own data",
        "Train, locally or remotely",
        "Look inside",
        "Export and deploy",
        "The command line",
        "The project file",
    ]
    for topic in ("Android", "iOS", "Web page", "TF Serving with Docker", "Microcontroller",
                  "--csv", "--images", "--adapt", "Normalization", "--remote", "layerloom demo",
                  "](cli.md)", "](file-format.md)"):  # fmt: skip
        assert topic in text, topic


def test_every_screenshot_is_small_and_shown_in_the_guide_and_the_readme() -> None:
    shots = sorted(IMAGES.glob("*.png"))
    assert {p.name for p in shots} >= {"editor.png", "training.png", "export.png"}
    guide = GUIDE.read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for shot in shots:
        assert shot.stat().st_size < MAX_BYTES, f"{shot.name} is {shot.stat().st_size} bytes"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](images/{shot.name})" in guide, shot.name
        assert f"](docs/images/{shot.name})" in readme, shot.name


def test_the_package_ships_the_docs_folder_the_help_menu_reads() -> None:
    shipped = ROOT / "resources" / "docs"
    assert shipped.is_symlink() and shipped.resolve() == (ROOT / "docs").resolve()
