#!/usr/bin/env bash
# Builds Layerloom's desktop bundle: one folder (dist/layerloom/) with a `layerloom` executable that
# needs no Python on the machine. It is the CLI; `layerloom gui` opens the window.
#
#   installer/build_bundle.sh [--deps-from PYTHON] [--smoke-test] [--out DIR]
#
# The build environment is a fresh venv under build/bundle/ with the wheel of this checkout (not an
# editable install) and PyInstaller. By default pip installs Layerloom's dependencies there from the
# index (`layerloom[bundle]`); `--deps-from PYTHON` borrows them from that interpreter's environment
# instead (no download of TensorFlow; PyInstaller is still installed from the index when missing).
# `--smoke-test` runs the checks of installer/smoke_bundle.sh on the result.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS_FROM=""
SMOKE=0
OUT="$ROOT/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --deps-from) DEPS_FROM=${2:?--deps-from needs a python}; shift 2 ;;
    --smoke-test) SMOKE=1; shift ;;
    --out) OUT=${2:?--out needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_bundle: unknown option '$1' (see --help)" >&2; exit 1 ;;
  esac
done
PYTHON=${PYTHON:-python3}
WORK="$ROOT/build/bundle"
VENV="$WORK/venv"
mkdir -p "$WORK"

say() { echo "build_bundle: $*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating the build environment in $VENV"
  "${DEPS_FROM:-$PYTHON}" -m venv "$VENV"
fi
if [ -n "$DEPS_FROM" ]; then
  # The dependencies come from that environment through a path file; the venv's own
  # site-packages comes first, so the wheel installed below is the Layerloom that gets bundled.
  theirs=$("$DEPS_FROM" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  ours=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  echo "$theirs" >"$ours/layerloom_deps.pth"
fi

say "building the wheel of $ROOT"
rm -rf "$WORK/wheel" "$WORK/source"
mkdir -p "$WORK/wheel"
# Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
  tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | (mkdir -p "$WORK/source" && tar -xf - -C "$WORK/source")
if [ -z "$DEPS_FROM" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip "setuptools>=77"
fi
# The venv's own setuptools (from ensurepip) is too old for pyproject's PEP 639 license field.
"${DEPS_FROM:-$VENV/bin/python}" -m pip wheel --no-deps --no-build-isolation -q -w "$WORK/wheel" "$WORK/source" \
  >"$WORK/wheel.log" 2>&1 || { cat "$WORK/wheel.log" >&2; exit 1; }
WHEEL=$(ls "$WORK"/wheel/layerloom-*.whl)

if [ -n "$DEPS_FROM" ]; then
  "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$WHEEL"
  "$VENV/bin/python" -c 'import PyInstaller' 2>/dev/null ||
    "$VENV/bin/python" -m pip install -q "pyinstaller>=6.10,<7"
else
  "$VENV/bin/python" -m pip install -q --upgrade "$WHEEL[bundle]"
  "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$WHEEL"
fi

say "running PyInstaller (several minutes: TensorFlow is large)"
start=$(date +%s)
# Run outside the checkout so the sources there cannot shadow the installed wheel.
(cd "$WORK" && "$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --workpath "$WORK/pyinstaller" --distpath "$OUT" "$ROOT/installer/bundle/layerloom.spec")
say "built $OUT/layerloom in $(($(date +%s) - start)) s, $(du -sh "$OUT/layerloom" | cut -f1)"

if [ "$SMOKE" -eq 1 ]; then
  "$ROOT/installer/smoke_bundle.sh" "$OUT/layerloom"
fi
