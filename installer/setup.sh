#!/usr/bin/env bash
# Sets up Layerloom from a fresh clone on Debian/Ubuntu with Python 3.11+: system packages (when
# run as root or with sudo), a virtual environment in .venv, and the package with its dev tools.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: Layerloom needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# System packages: a real X11 window under Xvfb (Qt's xcb plugin needs the icccm/keysyms libraries;
# its error message blames libxcb-cursor0 instead). Installed only if missing.
DEBIAN_PACKAGES="xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0
  libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1
  libxcb-glx0 libxcb-util1 libxkbcommon-x11-0 libx11-xcb1 libfontconfig1 libegl1 libgl1 libglib2.0-0
  chromium openssh-client openssh-server"
# chromium: the TF.js export's demo page is verified in headless Chromium.
# openssh-client: remote training talks to hosts through the user's own ssh; openssh-server: the
# remote-training tests start a throwaway sshd on 127.0.0.1 (its service is never enabled).
# Node.js + npm run the TF.js parity check (@tensorflow/tfjs on wasm); Debian's only if missing.
command -v node >/dev/null || DEBIAN_PACKAGES="$DEBIAN_PACKAGES nodejs"
command -v npm >/dev/null || DEBIAN_PACKAGES="$DEBIAN_PACKAGES npm"
# g++ compiles the microcontroller export's C++ sources (the check every micro export ends with).
command -v g++ >/dev/null || DEBIAN_PACKAGES="$DEBIAN_PACKAGES g++"
missing=""
if command -v dpkg-query >/dev/null; then
  for pkg in $DEBIAN_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
  done
fi
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing" >&2
  if ! { as_root apt-get update -qq && as_root apt-get install -y -qq $missing >/dev/null; }; then
    echo "setup: could not install$missing (needs root or sudo); the Xvfb window and Chromium tests will be skipped" >&2
  fi
fi

# Debian's python3 ships without ensurepip; the venv module needs python3-venv.
if [ ! -x .venv/bin/python ] && ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
  echo "setup: installing python3-venv (Debian package)" >&2
  as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# setuptools writes layerloom.egg-info beside the sources; a stale one (from an older checkout) would
# shadow the entry points of this one whenever the repository root is on sys.path (pytest).
rm -rf layerloom.egg-info
.venv/bin/python -m pip install --quiet -e '.[dev]'
# The TF.js runtime (package.json / package-lock.json): copied into browser exports and used to
# check their parity in Node on the WebAssembly backend, whose .wasm binaries ship in its npm
# package: no native download. Re-run when a package is missing (an install from before it).
if [ ! -f node_modules/@tensorflow/tfjs/dist/tf.min.js ] ||
  [ ! -f node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm ]; then
  if command -v npm >/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    echo "setup: npm is missing; the browser (TF.js) export will be unavailable" >&2
  fi
fi
echo "setup: ready (.venv/bin/layerloom)" >&2
