"""The Help menu: Open a Sample Project, Keyboard Shortcuts, User Guide, Layer Reference and
Report a Problem (About is the window's).

Nothing here is written by hand that the program already knows: the shortcuts are read from the
window's QActions, the layer reference from the node registry and the export targets' limits
(``workbench.reference``), the guide is ``docs/user-guide.md`` as shipped in the package. Each
window is non-modal, so it can stay open beside the editor.
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
)

from layerloom.app.workbench.about import problem_report
from layerloom.app.workbench.demo import DEMO_FOLDER, create_demo_project, demo_folder
from layerloom.app.workbench.reference import LayerEntry, layer_reference
from layerloom.nodes.errors import LayerloomError

GUIDE = "user-guide.md"


def add_help_actions(window, a: SimpleNamespace, make_action) -> None:
    a.open_sample = make_action(
        window,
        "Open a &Sample Project…",
        lambda: open_sample_project(window),
        None,
        None,
        "A small image classifier with its sample data, ready to train (F5)",
    )
    a.shortcuts = make_action(
        window, "&Keyboard Shortcuts", lambda: show_shortcuts(window), "Ctrl+/"
    )
    a.user_guide = make_action(
        window,
        "&User Guide",
        lambda: show_user_guide(window),
        QKeySequence.StandardKey.HelpContents,
    )
    a.layer_reference = make_action(
        window,
        "&Layer Reference",
        lambda: show_layer_reference(window),
        None,
        None,
        "Every layer: its parameters, shape rule and the export targets that take it",
    )
    a.report_problem = make_action(
        window,
        "&Report a Problem…",
        lambda: report_problem(window),
        None,
        None,
        "Copy the version, system and log file location to the clipboard",
    )


def fill_help_menu(menu: QMenu, a: SimpleNamespace) -> None:
    menu.addAction(a.open_sample)
    menu.addSeparator()
    menu.addActions([a.user_guide, a.layer_reference, a.shortcuts])
    menu.addSeparator()
    menu.addAction(a.report_problem)


def _browser_dialog(window, title: str, size: tuple[int, int]) -> tuple[QDialog, QTextBrowser]:
    dialog = QDialog(window)
    dialog.setWindowTitle(title)
    dialog.resize(*size)
    browser = QTextBrowser(dialog)
    browser.setOpenExternalLinks(True)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    return dialog, browser


# --- Open a Sample Project ------------------------------------------------------------------------


def _free_folder(parent: Path) -> Path:
    """``parent/layerloom-demo``, or the first ``layerloom-demo-N`` that is free or empty: the
    sample never lands among someone's files."""
    for n in range(1, 1000):
        name = DEMO_FOLDER.name if n == 1 else f"{DEMO_FOLDER.name}-{n}"
        candidate = parent / name
        if not candidate.exists() or (candidate.is_dir() and not any(candidate.iterdir())):
            return candidate
    raise LayerloomError(f"{parent} holds 999 sample projects already: choose another folder")


def open_sample_project(window, parent: Path | None = None) -> Path | None:
    """Create the sample project in a new folder under ``parent`` (asked when None) and open it."""
    if parent is None:
        chosen = QFileDialog.getExistingDirectory(
            window, "Where Should the Sample Project Go?", str(Path.home())
        )
        if not chosen:
            return None
        parent = Path(chosen)
    try:
        path = create_demo_project(demo_folder(_free_folder(parent)))
    except (LayerloomError, OSError) as error:
        window.show_error("Could Not Create the Sample Project", str(error))
        return None
    if not window.open_document(path):
        return None
    window.show_message(
        f"Sample project {path}: press F5 to train it, then File ▸ Export… to take it to a phone",
        15000,
    )
    return path


# --- Keyboard Shortcuts ---------------------------------------------------------------------------


def _label(action: QAction) -> str:
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…")


def _typed(sequence: QKeySequence) -> bool:
    """Whether a keyboard has these keys: not the dedicated Save/Copy/Back media keys that some
    platforms' standard shortcuts add (Qt numbers those from Key_Back on)."""
    return not sequence.isEmpty() and sequence[0].key().value < Qt.Key.Key_Back.value


def _keys(action: QAction) -> str:
    native = QKeySequence.SequenceFormat.NativeText
    return ", ".join(s.toString(native) for s in action.shortcuts() if _typed(s))


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """(menu, command, keys) of every action with a shortcut: those in the menu bar under their
    menu's name, then any other action the window holds."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def walk(menu: QMenu, where: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{where} ▸ {_label(action)}")
            elif action.isSeparator() or id(action) in seen:
                continue
            else:
                seen.add(id(action))
                if _keys(action):
                    rows.append((where, _label(action), _keys(action)))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), _label(top))
    for action in window.actions():
        if id(action) not in seen and _keys(action):
            rows.append(("Other", _label(action), _keys(action)))
    return rows


def show_shortcuts(window) -> QDialog:
    dialog, browser = _browser_dialog(window, "Keyboard Shortcuts", (520, 640))
    parts = ["<table cellspacing='0' cellpadding='3' width='100%'>"]
    last = None
    for where, name, keys in shortcut_rows(window):
        if where != last:
            parts.append(f"<tr><td colspan='2'><h3>{html.escape(where)}</h3></td></tr>")
            last = where
        parts.append(f"<tr><td>{html.escape(name)}</td><td><b>{html.escape(keys)}</b></td></tr>")
    parts.append("</table>")
    browser.setHtml("".join(parts))
    dialog.show()
    return dialog


# --- User Guide -----------------------------------------------------------------------------------


def guide_path() -> Path:
    """docs/user-guide.md as the package ships it (resources/docs is the docs folder)."""
    return Path(str(files("layerloom.resources") / "docs" / GUIDE))


def show_user_guide(window) -> QDialog | None:
    path = guide_path()
    if not path.is_file():
        window.show_error("User Guide Missing", f"{path} is not in this installation")
        return None
    dialog, browser = _browser_dialog(window, "Layerloom User Guide", (860, 760))
    # Markdown cannot size an image: the screenshots are shrunk to the page on every page shown.
    browser.sourceChanged.connect(lambda _url: _fit_images(browser))
    # From a file, so its images and its links to the other pages (cli.md) resolve beside it.
    browser.setSource(QUrl.fromLocalFile(str(path)))
    dialog.show()
    return dialog


def _fit_images(browser: QTextBrowser) -> None:
    # The dialog's width, not the viewport's: this runs before the dialog is first laid out.
    widest = max(200, browser.window().width() - 80)
    document = browser.document()
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fmt.isImageFormat():
                image_format = fmt.toImageFormat()
                image = document.resource(QTextDocument.ResourceType.ImageResource,
                                          QUrl(image_format.name()))  # fmt: skip
                width = image.width() if image is not None and hasattr(image, "width") else 0
                if width > widest:
                    image_format.setWidth(widest)
                    image_format.setHeight(image.height() * widest / width)
                    cursor = QTextCursor(document)
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(fragment.position() + fragment.length(),
                                       QTextCursor.MoveMode.KeepAnchor)  # fmt: skip
                    cursor.setCharFormat(image_format)
            it += 1
        block = block.next()


# --- Layer Reference ------------------------------------------------------------------------------


def _entry_html(entry: LayerEntry) -> str:
    esc = html.escape
    params = "".join(
        f"<tr><td><code>{esc(p.name)}</code></td><td>{esc(p.default)}</td>"
        f"<td>{esc(p.help)}</td></tr>"
        for p in entry.params
    )
    exports = "".join(
        f"<tr><td>{esc(label)}</td><td>{esc(verdict)}</td></tr>" for label, verdict in entry.exports
    )
    table = "<table cellspacing='0' cellpadding='2' border='0'>"
    return (
        f"<h3>{esc(entry.label)} <small>({esc(entry.category)})</small></h3>"
        f"<p>{esc(entry.doc)}<br><small><code>{esc(entry.type_id)}</code></small></p>"
        f"<p><b>Inputs:</b> {esc(entry.inputs)}<br><b>Shape:</b> {esc(entry.shape_rule)}</p>"
        + (
            f"<p><b>Parameters</b></p>{table}<tr><th align='left'>name</th>"
            f"<th align='left'>default</th><th align='left'>what it does</th></tr>{params}</table>"
            if entry.params
            else "<p><b>Parameters:</b> none</p>"
        )
        + f"<p><b>Export targets</b></p>{table}{exports}</table><hr>"
    )


def reference_html(entries: list[LayerEntry], text: str = "") -> str:
    needle = text.strip().casefold()
    shown = [
        e for e in entries if not needle or needle in f"{e.label} {e.category} {e.doc}".casefold()
    ]
    if not shown:
        return f"<p>No layer matches “{html.escape(text)}”.</p>"
    return "".join(_entry_html(e) for e in shown)


def show_layer_reference(window) -> QDialog:
    entries = layer_reference()
    dialog, browser = _browser_dialog(window, "Layer Reference", (760, 760))
    search = QLineEdit(dialog)
    search.setPlaceholderText(f"Filter {len(entries)} layers by name, category or description")
    search.setClearButtonEnabled(True)
    dialog.layout().insertWidget(0, search)
    search.textChanged.connect(lambda text: browser.setHtml(reference_html(entries, text)))
    browser.setHtml(reference_html(entries))
    search.setObjectName("layerFilter")
    dialog.show()
    return dialog


# --- Report a Problem -----------------------------------------------------------------------------


def report_problem(window) -> QMessageBox:
    platform = QGuiApplication.platformName()
    report = problem_report({"Qt": f"{qVersion()} ({platform})"})
    QGuiApplication.clipboard().setText(report)
    box = QMessageBox(window)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Report a Problem")
    box.setText("These details are now on the clipboard: paste them into your report.")
    box.setInformativeText(
        f"{report}\n\nSay what you did and what you expected; the log file holds the details "
        "of every error."
    )
    box.setModal(False)
    window.show_message("Problem report copied to the clipboard")
    box.show()
    return box
