#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) and installs homeiq-ai with its training and dev extras, every dependency at
# the version requirements.lock pins (scripts/lock.sh writes it), so that every machine tests the locked set.
#
# Idempotent: a stamp holding the hash of pyproject.toml and requirements.lock skips the install when nothing
# changed.
# HOMEIQ_SETUP_FORCE=1 reinstalls anyway. TORCH_INDEX_URL, when set, is the index torch comes from
# (e.g. https://download.pytorch.org/whl/cpu on a machine without a local CPU wheel).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
STAMP="$VENV/.homeiq-setup-stamp"

die() {
    echo "" >&2
    echo "setup.sh: ERROR: $*" >&2
    exit 1
}

python_ok() {
    # True when "$1" runs and is Python 3.11 or newer.
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [[ -x "$VENV/bin/python" ]] && python_ok "$VENV/bin/python"; then
    :
else
    PYTHON=$(find_python) || die "homeiq-ai needs Python 3.11 or newer: neither python3.11 nor a python3 >= 3.11 \
was found on PATH (python3 is: $(python3 --version 2>&1 || echo 'missing')). Install Python 3.11 and run again."
    echo "setup.sh: creating $VENV with $PYTHON ($("$PYTHON" --version 2>&1))"
    "$PYTHON" -m venv --clear "$VENV"
fi

PY="$VENV/bin/python"
[[ -f requirements.lock ]] || die "requirements.lock is missing (scripts/lock.sh writes it)"
WANT=$("$PY" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read() + open("requirements.lock", "rb").read()).hexdigest())')
HAVE=$(cat "$STAMP" 2>/dev/null || true)

if [[ "${HOMEIQ_SETUP_FORCE:-0}" != "1" && "$WANT" == "$HAVE" && -x "$VENV/bin/homeiq-ai" ]] \
    && "$PY" -c 'import homeiq_ai' >/dev/null 2>&1; then
    echo "setup.sh: $VENV is up to date ($("$PY" --version 2>&1)); HOMEIQ_SETUP_FORCE=1 reinstalls"
    exit 0
fi

rm -f "$STAMP"
echo "setup.sh: installing into $VENV ($("$PY" --version 2>&1)); a few minutes on a fresh machine"
"$PY" -m pip install --quiet --upgrade pip \
    || echo "setup.sh: WARNING: could not upgrade pip; going on with $("$PY" -m pip --version)" >&2

# torch first and pinned: with a CPU build already installed, the training extra's pin is satisfied
# and pip does not go looking for the (multi-GB) CUDA wheels.
TORCH_ARGS=()
if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
    TORCH_ARGS=(--index-url "$TORCH_INDEX_URL")
fi
"$PY" -m pip install --quiet ${TORCH_ARGS[@]+"${TORCH_ARGS[@]}"} "torch==2.13.0" || die "could not install torch==2.13.0 \
(set TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu to take the CPU build from PyTorch's index)"
"$PY" -m pip install --quiet -c requirements.lock -e '.[training,dev]' \
    || die "pip install -c requirements.lock -e '.[training,dev]' failed (see above; after a change to the \
dependencies in pyproject.toml, run scripts/lock.sh)"

"$PY" -c 'import homeiq_ai' || die "homeiq_ai does not import after the install"
echo "$WANT" >"$STAMP"
echo "setup.sh: done; tools are in $VENV/bin (homeiq-ai, pytest, ruff, lint-imports)"
