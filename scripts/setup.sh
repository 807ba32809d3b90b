#!/usr/bin/env bash
# Idempotent set-up: system packages (apt, where we may), .venv with the project and its
# extras, and the pinned npm tools in tools/node. Fast the second time: each step keeps a
# stamp of what it installed and skips when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg fluidsynth libfluidsynth3 fluid-soundfont-gm musescore-general-soundfont chromium fonts-inter fonts-dejavu-core libegl1 libgl1)
PYTHON="${PYTHON:-python3}"
VENV=.venv

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# ---- system packages -------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    say "missing system packages: ${missing[*]} (install them with your package manager)"
  elif [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]} with apt"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  elif sudo -n true 2>/dev/null; then
    say "installing ${missing[*]} with sudo apt"
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    say "missing system packages; run:  sudo apt-get install -y ${missing[*]}"
  fi
fi

# ---- Python ----------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$VENV/.songmint-stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages (torch 2.13 CPU first, the project with [ml,dev], basic-pitch's model)"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q torch==2.13.0
  "$VENV/bin/pip" install -q -e '.[ml,dev]'
  # Basic Pitch for its ONNX model file only (its tensorflow pin does not install next to numpy 2)
  "$VENV/bin/pip" install -q --no-deps basic-pitch==0.4.0
  echo "$want" > "$VENV/.songmint-stamp"
fi

# ---- npm tools (anvil, forge, solc-js, OpenZeppelin, reference importers) ------------
if command -v npm >/dev/null; then
  want="$(sha256sum tools/node/package-lock.json | cut -d' ' -f1)"
  if [ "$(cat tools/node/node_modules/.songmint-stamp 2>/dev/null)" != "$want" ]; then
    say "installing pinned npm tools into tools/node"
    (cd tools/node && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > tools/node/node_modules/.songmint-stamp
  fi
else
  say "npm not found: install Node.js 20+ (sudo apt-get install nodejs npm) for anvil, forge and solc"
fi
say "ready"
