#!/usr/bin/env bash
# Installs Layerloom for the current user (no root): an isolated Python environment, `layerloom` on
# PATH, a menu entry with the icon and the .loom file type (a double click opens the project).
# Running it again upgrades; --uninstall removes all of it.
#
#   installer/install.sh [options]
#
#   --wheel FILE        install this wheel (default: build one from the checkout this script is in;
#                       outside a checkout, `layerloom` from the package index)
#   --from-index [SPEC] install from the package index (SPEC defaults to `layerloom`)
#   --prefix DIR        install under DIR: DIR/bin/layerloom and DIR/share/... (tests, staging);
#                       Layerloom is then not made the default app for .loom files
#   --python PYTHON     the Python 3.11+ to create the environment with (default: python3)
#   --deps-from PYTHON  take the dependencies (TensorFlow, Qt, ...) from that Python's environment
#                       instead of downloading them: offline installs, tests, development
#   --no-desktop        skip the menu entry and the file type
#   --uninstall         remove the environment, the command and the desktop integration
#
# Environment: LAYERLOOM_HOME (the environment's parent; default
# ${XDG_DATA_HOME:-~/.local/share}/layerloom), LAYERLOOM_BIN_DIR (default ~/.local/bin).
set -euo pipefail

say() { echo "install: $*" >&2; }
fail() { echo "install: error: $*" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
WHEEL=""
INDEX_SPEC=""
PREFIX=""
PYTHON=${PYTHON:-python3}
DEPS_FROM=""
DESKTOP=1
UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --wheel) WHEEL=${2:?--wheel needs a file}; shift 2 ;;
    --from-index)
      INDEX_SPEC=layerloom
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then INDEX_SPEC=$2; shift; fi
      shift ;;
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --python) PYTHON=${2:?--python needs an interpreter}; shift 2 ;;
    --deps-from) DEPS_FROM=${2:?--deps-from needs an interpreter}; shift 2 ;;
    --no-desktop) DESKTOP=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown option '$1' (see --help)" ;;
  esac
done

if [ -n "$PREFIX" ]; then
  mkdir -p "$PREFIX"
  PREFIX=$(cd "$PREFIX" && pwd)
  DATA_HOME="$PREFIX/share"
  BIN_DIR=${LAYERLOOM_BIN_DIR:-$PREFIX/bin}
else
  DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
  BIN_DIR=${LAYERLOOM_BIN_DIR:-$HOME/.local/bin}
fi
APP_HOME=${LAYERLOOM_HOME:-$DATA_HOME/layerloom}
VENV="$APP_HOME/venv"
LINK="$BIN_DIR/layerloom"
# With --prefix the desktop files go under it; otherwise where the desktop looks (the default).
desktop_flags=()
[ -n "$PREFIX" ] && desktop_flags=(--data-home "$DATA_HOME")

# --- uninstall ------------------------------------------------------------------------------------
if [ "$UNINSTALL" -eq 1 ]; then
  if [ -x "$VENV/bin/layerloom" ]; then
    "$VENV/bin/layerloom" desktop-integration uninstall "${desktop_flags[@]}" >&2 ||
      say "could not remove the desktop entry; delete $DATA_HOME/applications/layerloom.desktop by hand"
  fi
  # Only a link into our environment is ours to remove.
  if [ -L "$LINK" ] && [ "$(readlink "$LINK")" = "$VENV/bin/layerloom" ]; then
    rm -f "$LINK" && say "removed $LINK"
  fi
  if [ -d "$VENV" ]; then
    rm -rf "$VENV" && say "removed $VENV"
  fi
  rmdir "$APP_HOME" 2>/dev/null || true
  say "Layerloom is uninstalled (your projects and ~/.local/state/layerloom logs are kept)"
  exit 0
fi

# Checked before anything is made: someone else's `layerloom` is not ours to replace.
if [ -e "$LINK" ] && [ ! -L "$LINK" ]; then
  fail "$LINK exists and is not a link to Layerloom; move it away and run this again"
fi

# --- the environment ------------------------------------------------------------------------------
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  fail "Layerloom needs Python 3.11 or newer as '$PYTHON' (use --python /path/to/python3.11)"
fi
if [ ! -x "$VENV/bin/python" ]; then
  say "creating the environment in $VENV"
  mkdir -p "$APP_HOME"
  if [ -n "$DEPS_FROM" ]; then
    # No pip needed inside: the outer pip installs into it with --python.
    "$PYTHON" -m venv --without-pip "$VENV"
  else
    "$PYTHON" -m venv "$VENV" ||
      fail "could not create a virtual environment (on Debian/Ubuntu: sudo apt install python3-venv)"
  fi
else
  say "upgrading the environment in $VENV"
fi
if [ -n "$DEPS_FROM" ]; then
  # The dependencies come from that environment through a path file; the environment's own
  # site-packages comes first, so the wheel installed below is the Layerloom that runs.
  theirs=$("$DEPS_FROM" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  ours=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  echo "$theirs" >"$ours/layerloom_deps.pth"
  PIP=("$DEPS_FROM" -m pip --python "$VENV/bin/python")
else
  PIP=("$VENV/bin/python" -m pip)
  "${PIP[@]}" install -q --upgrade pip
fi

# --- the wheel ------------------------------------------------------------------------------------
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "$WHEEL" ] && [ -z "$INDEX_SPEC" ]; then
  if [ -f "$HERE/../pyproject.toml" ] && grep -q '^name = "layerloom"' "$HERE/../pyproject.toml"; then
    ROOT=$(cd "$HERE/.." && pwd)
    say "building the wheel of $ROOT"
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    mkdir -p "$WORK/source"
    if [ -d "$ROOT/.git" ] && command -v git >/dev/null; then
      # Tracked and new files, not ignored ones; a file deleted but not yet committed is skipped.
      (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
        tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$WORK/source"
    else
      tar -C "$ROOT" --exclude=.venv --exclude=build --exclude=dist --exclude=node_modules \
        --exclude='*.egg-info' --exclude=__pycache__ -cf - . | tar -xf - -C "$WORK/source"
    fi
    builder=${DEPS_FROM:-$VENV/bin/python}
    # The build needs setuptools >= 77 (PEP 639 license fields); without it in the builder's
    # environment pip fetches it into an isolated build environment.
    isolation=()
    "$builder" -c 'import setuptools, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)' \
      2>/dev/null && isolation=(--no-build-isolation)
    "$builder" -m pip wheel -q --no-deps "${isolation[@]}" -w "$WORK/wheel" "$WORK/source" \
      >"$WORK/wheel.log" 2>&1 || { cat "$WORK/wheel.log" >&2; fail "the wheel did not build"; }
    WHEEL=$(ls "$WORK"/wheel/layerloom-*.whl)
  else
    INDEX_SPEC=layerloom
  fi
fi

if [ -n "$WHEEL" ]; then
  [ -f "$WHEEL" ] || fail "no wheel at $WHEEL"
  say "installing $(basename "$WHEEL")"
  if [ -n "$DEPS_FROM" ]; then
    "${PIP[@]}" install -q --no-index --no-deps --force-reinstall "$WHEEL"
  else
    "${PIP[@]}" install -q --upgrade "$WHEEL"
    # The same version number from a newer checkout: replace the package itself too.
    "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL"
  fi
else
  say "installing $INDEX_SPEC from the package index (TensorFlow is large: a few minutes)"
  "${PIP[@]}" install -q --upgrade "$INDEX_SPEC"
fi
"$VENV/bin/layerloom" --version >/dev/null || fail "the installed layerloom does not start"

# --- the command and the desktop ------------------------------------------------------------------
mkdir -p "$BIN_DIR"
ln -sfn "$VENV/bin/layerloom" "$LINK"
say "linked $LINK"

if [ "$DESKTOP" -eq 1 ]; then
  if [ "$(uname -s)" = Linux ]; then
    "$VENV/bin/layerloom" desktop-integration install "${desktop_flags[@]}" >&2
  else
    say "no desktop entry on $(uname -s): start the editor with 'layerloom gui'"
  fi
fi

case ":$PATH:" in
  *":$BIN_DIR:"*) say "done: run 'layerloom gui' (or open Layerloom from the applications menu)" ;;
  *)
    say "done, but $BIN_DIR is not on your PATH: add this line to ~/.profile (or ~/.bashrc),"
    say "  export PATH=\"$BIN_DIR:\$PATH\""
    say "then open a new terminal; until then run $LINK gui" ;;
esac
