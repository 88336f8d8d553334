#!/usr/bin/env bash
# Builds (once) a separate venv holding a real Home Assistant for the integration tests; prints its path.
#
# Usage: scripts/ha-venv.sh            -> prints the venv path on stdout (progress goes to stderr)
# Env:   HA_VERSION (default 2024.3.3, the newest release that supports Python 3.11)
#        HOMEIQ_HA_VENV (default ~/.cache/homeiq-ai/ha-$HA_VERSION-venv)
#        HOMEIQ_HA_VENV_FORCE=1 rebuilds it.
#
# Idempotent: a stamp inside the venv marks a finished build, so later runs only print the path. A lock
# keeps two concurrent runs from building the same venv. Never touches the project's own .venv.
#
# Why not `pip install homeassistant==...`: pip backtracks for ever on habluetooth/bluetooth-data-tools.
# Instead: the wheel with --no-deps, then the wheel again constrained by the package_constraints.txt it
# carries; josepy<2 (josepy 2.x makes every HTTP request answer 500); and the requirements of the
# integrations the test config loads, which Home Assistant would otherwise try to install on first start.
set -euo pipefail

HA_VERSION="${HA_VERSION:-2024.3.3}"
VENV="${HOMEIQ_HA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/homeiq-ai/ha-$HA_VERSION-venv}"
STAMP="$VENV/.homeiq-ha-ready"
INTEGRATION_REQUIREMENTS=(
    fnv-hash-fast fnvhash ha-ffmpeg hassil home-assistant-frontend home-assistant-intents janus mutagen
    numpy pillow psutil-home-assistant pyotp PyQRCode PyTurboJPEG securetar SQLAlchemy unicode-rbnf greenlet
)

say() { echo "ha-venv.sh: $*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

ready() {
    [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HA_VERSION" && -x "$VENV/bin/hass" ]] \
        && "$VENV/bin/python" -c 'import homeassistant.const' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in python3.11 python3.12 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)' \
                >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9

if [[ "${HOMEIQ_HA_VENV_FORCE:-0}" != "1" ]] && ready; then
    say "Home Assistant $HA_VERSION is ready in $VENV"
    echo "$VENV"
    exit 0
fi

PYTHON=$(find_python) || die "Home Assistant $HA_VERSION needs Python 3.11 or 3.12 on PATH"
say "building Home Assistant $HA_VERSION into $VENV with $("$PYTHON" --version 2>&1) (about a minute, 750 MB)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$PY" -m pip install --quiet --upgrade pip wheel >&2 || say "WARNING: could not upgrade pip; going on"
"$PY" -m pip download --quiet --no-deps --dest "$WORK" "homeassistant==$HA_VERSION" >&2 \
    || die "could not download homeassistant==$HA_VERSION (is the package registry reachable?)"
WHEEL=$(ls "$WORK"/homeassistant-"$HA_VERSION"-*.whl 2>/dev/null | head -n 1)
[[ -n "$WHEEL" ]] || die "pip downloaded no wheel for homeassistant==$HA_VERSION"
"$PY" - "$WHEEL" "$WORK/constraints.txt" <<'EOF'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as wheel:
    text = wheel.read("homeassistant/package_constraints.txt").decode()
open(sys.argv[2], "w").write(text)
EOF
# josepy<2 is added to the constraints too, so no later step can bring 2.x back.
echo "josepy<2" >>"$WORK/constraints.txt"

"$PY" -m pip install --quiet -c "$WORK/constraints.txt" "$WHEEL" "josepy<2" >&2 \
    || die "could not install the homeassistant wheel with its package constraints"
"$PY" -m pip install --quiet -c "$WORK/constraints.txt" "${INTEGRATION_REQUIREMENTS[@]}" >&2 \
    || die "could not install the requirements of the integrations used by the tests"
"$VENV/bin/hass" --version >/dev/null || die "hass does not start after the install"
echo "$HA_VERSION" >"$STAMP"
say "Home Assistant $HA_VERSION is ready in $VENV"
echo "$VENV"
