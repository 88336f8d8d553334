#!/usr/bin/env bash
# Writes requirements.lock: every distribution that `pip install torch==2.13.0 '.[training,dev]'` resolves to
# today, each pinned to one version. scripts/setup.sh and the Dockerfile install under it as constraints
# (`-c requirements.lock`), so every machine gets the set the tests ran against, and scripts/audit_deps.py
# audits exactly that set.
#
# Run it after a change to the dependencies in pyproject.toml, or to take newer releases; commit the result.
# It resolves in a throw-away venv, never in .venv. TORCH_INDEX_URL is honoured as in setup.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "lock.sh: resolving in a fresh venv ($("$PYTHON" --version 2>&1)); a few minutes"
"$PYTHON" -m venv "$WORK/venv"
PY="$WORK/venv/bin/python"
"$PY" -m pip install --quiet --upgrade pip
TORCH_ARGS=()
if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
    TORCH_ARGS=(--index-url "$TORCH_INDEX_URL")
fi
"$PY" -m pip install --quiet ${TORCH_ARGS[@]+"${TORCH_ARGS[@]}"} "torch==2.13.0"
"$PY" -m pip install --quiet '.[training,dev]'

{
    echo "# The locked set: what pip resolved for torch==2.13.0 and '.[training,dev]' on $(date -u +%Y-%m-%d)"
    echo "# ($("$PY" --version 2>&1)). Written by scripts/lock.sh; do not edit by hand."
    echo "# Installed as constraints by scripts/setup.sh and the Dockerfile; audited by scripts/audit_deps.py."
    # The project itself is not locked; local version labels (torch's "+cpu") are dropped, since a
    # constraint "==2.13.0" accepts 2.13.0+cpu and a vulnerability database knows the public version.
    "$PY" -m pip freeze --all --exclude homeiq-ai --exclude pip --exclude setuptools --exclude wheel \
        | sed -E 's/^([A-Za-z0-9_.-]+==[^+ ]+)\+[A-Za-z0-9.]+$/\1/' \
        | LC_ALL=C sort -f
} >"$WORK/requirements.lock"

if grep -vE '^(#|[A-Za-z0-9_.-]+==[A-Za-z0-9_.!-]+$)' "$WORK/requirements.lock"; then
    echo "lock.sh: ERROR: the lines above are not 'name==version' pins" >&2
    exit 1
fi
mv "$WORK/requirements.lock" requirements.lock
echo "lock.sh: wrote requirements.lock ($(grep -vc '^#' requirements.lock) pins)"
