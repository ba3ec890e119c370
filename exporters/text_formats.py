"""Escaping user text (class labels, names) for each file format an export writes: one function
per format, used by every exporter, so no two exporters escape the same format differently.

Labels come from the user's data (CSV cells, folder names) and may hold newlines, quotes, HTML or
spreadsheet formulas; written verbatim they broke ``labels.txt`` (a label with a newline became two
classes) and READMEs (HTML rendered). The TF.js demo page never parses them as HTML: it sets them
with ``textContent`` from ``model-data.js`` (JSON), and the page test proves no script runs.
"""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def c_string(text: str) -> str:
    """``text`` as a C string literal any compiler takes: printable ASCII as is, quotes, backslashes
    and ``?`` (no trigraphs) escaped, everything else (newlines, UTF-8 bytes) as octal escapes,
    which never swallow a following digit the way ``\\x`` escapes do (they stop at three)."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\?':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def labels_line(label: str) -> str:
    """One line of ``labels.txt`` (line N is class N, as TF Lite's and ONNX's tooling read it): a
    backslash, newline or carriage return inside a label is written as ``\\\\``, ``\\n``, ``\\r``
    so each label stays on its own line."""
    return label.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def labels_txt(labels: list[str]) -> str:
    return "".join(f"{labels_line(label)}\n" for label in labels)


LABELS_TXT_NOTE = (
    "a backslash, newline or carriage return inside a label is written as `\\\\`, `\\n` or `\\r`"
)


def markdown(text: str) -> str:
    """``text`` as literal Markdown inline text: HTML is shown, not rendered; emphasis, code, links
    and table cells are not started; a line break becomes a visible ``\\n``."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text.replace("\r", "\\\\r").replace("\n", "\\\\n")
