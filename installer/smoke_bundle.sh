#!/usr/bin/env bash
# Checks a built desktop bundle the way a user meets it, with no Python of ours on PATH:
# `--version`, `new` + `summary`, a 1-epoch `train`, `export` (Keras and TF Lite, with their
# parity checks), and the GUI opening a project under Qt's offscreen platform for a few seconds.
# Prints the size and the start-up times it measured.
#
#   installer/smoke_bundle.sh [BUNDLE_DIR]      (default: dist/layerloom)
#
# Not part of pytest: building the bundle takes minutes (installer/build_bundle.sh --smoke-test
# builds it and runs this).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE=$(cd "${1:-$ROOT/dist/layerloom}" && pwd)
EXE="$BUNDLE/layerloom"
[ -x "$EXE" ] || { echo "smoke: no bundle executable at $EXE" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# Nothing from a development environment may help the bundle: no venv, no PYTHONPATH, a PATH
# with only the system's tools, a fresh HOME.
export PATH=/usr/bin:/bin HOME="$WORK/home"
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV
mkdir -p "$HOME"

step() { echo "smoke: $*" >&2; }
seconds() { # seconds COMMAND...: runs it, prints its wall time in seconds
  local start end
  start=$(date +%s.%N)
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || { cat "$WORK/out.txt" "$WORK/err.txt" >&2; return 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}

step "bundle $BUNDLE: $(du -sh "$BUNDLE" | cut -f1) on disk, $(find "$BUNDLE" -type f | wc -l) files"
version_s=$(seconds "$EXE" --version)
grep -q '^layerloom ' "$WORK/out.txt"
step "--version: $(cat "$WORK/out.txt") in ${version_s} s"
new_s=$(seconds "$EXE" new "pröject.loom" --template mlp_classifier)
step "new: ${new_s} s"
summary_s=$(seconds "$EXE" summary "pröject.loom")
grep -q "Total params" "$WORK/out.txt"
step "summary (imports TensorFlow): ${summary_s} s"
train_s=$(seconds "$EXE" train "pröject.loom" --epochs 1)
step "train, 1 epoch (in a worker process: '$EXE -m ...' in the bundle): ${train_s} s"
for target in keras tflite; do
  export_s=$(seconds "$EXE" export "pröject.loom" --target "$target" -o "out-$target")
  step "export --target $target: ${export_s} s"
done
"$EXE" exports "pröject.loom" >&2

# The window: `layerloom gui` re-executes the bundle as `-m layerloom.app.gui`; still running after
# the wait means it opened and did not crash.
gui_rc=0
QT_QPA_PLATFORM=offscreen timeout 15 "$EXE" gui "pröject.loom" >"$WORK/gui.txt" 2>&1 || gui_rc=$?
if [ "$gui_rc" -ne 124 ]; then
  cat "$WORK/gui.txt" >&2
  step "FAILED: the GUI exited with $gui_rc within 15 s"
  exit 1
fi
step "gui: the window process ran 15 s under the offscreen platform without exiting"

# Start-up to a visible window, on a real X server (Xvfb) when there is one.
if command -v Xvfb >/dev/null && command -v xwininfo >/dev/null; then
  display=90
  while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
  Xvfb ":$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
  start=$(date +%s.%N)
  DISPLAY=":$display" QT_QPA_PLATFORM=xcb "$EXE" gui "pröject.loom" >"$WORK/gui.txt" 2>&1 &
  gui=$!
  shown=""
  for _ in $(seq 600); do
    if DISPLAY=":$display" xwininfo -root -tree 2>/dev/null | grep -q 'Layerloom'; then
      shown=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
      break
    fi
    kill -0 "$gui" 2>/dev/null || break
    sleep 0.1
  done
  kill "$gui" 2>/dev/null || true
  wait "$gui" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  wait "$xvfb" 2>/dev/null || true
  if [ -z "$shown" ]; then
    cat "$WORK/gui.txt" >&2
    step "FAILED: no Layerloom window appeared on Xvfb within 60 s"
    exit 1
  fi
  step "gui: the window was on screen (Xvfb) ${shown} s after 'layerloom gui pröject.loom'"
fi
step "passed"
