#!/usr/bin/env bash
# Quick start 2: set up, make sure the local services the tests use are up, then run the whole suite:
# ruff, import-linter, pip-audit and pytest. Extra arguments go to pytest (e.g. ./scripts/test.sh -k health -x).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
PY="$PWD/.venv/bin/python"

reachable() {
    # True when something accepts TCP connections on 127.0.0.1:$1.
    "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' \
        "$1" >/dev/null 2>&1
}

wait_reachable() {
    local port=$1 i
    for i in $(seq 1 30); do
        reachable "$port" && return 0
        sleep 0.5
    done
    return 1
}

loud_warning() {
    {
        echo ""
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!! WARNING: $1"
        echo "!!! The tests that need it will be SKIPPED: this run does not cover them."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo ""
    } >&2
}

# PostgreSQL on 127.0.0.1:5432 (the suite also runs against it where it is reachable).
if ! reachable 5432; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [[ -d /etc/postgresql ]]; then
        echo "test.sh: PostgreSQL is not answering on 127.0.0.1:5432; starting it"
        # shellcheck disable=SC2046  # one cluster version per machine
        pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start || true
        wait_reachable 5432 || true
    fi
    reachable 5432 || loud_warning "PostgreSQL is not reachable on 127.0.0.1:5432 and could not be started."
fi

# Mosquitto on 127.0.0.1:1883 (MQTT integration tests).
if ! reachable 1883; then
    if command -v mosquitto >/dev/null 2>&1 && [[ -f /etc/mosquitto/mosquitto.conf ]]; then
        echo "test.sh: Mosquitto is not answering on 127.0.0.1:1883; starting it"
        mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
        wait_reachable 1883 || true
    fi
    reachable 1883 || loud_warning "Mosquitto is not reachable on 127.0.0.1:1883 and could not be started."
fi

# Debian's chromium for the browser tests of the page (tests/integration/web); Playwright drives it
# through executable_path and never downloads a browser of its own.
if [[ ! -x /usr/bin/chromium ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing Debian's chromium for the browser tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 || true
fi
[[ -x /usr/bin/chromium ]] || loud_warning "chromium is not installed (/usr/bin/chromium) and apt-get could not install it: the page's browser tests."

failed=()

echo "== ruff check ."
ruff check . || failed+=("ruff")

echo "== lint-imports"
lint-imports || failed+=("lint-imports")

# Dependency audit of the installed set; a finding fails unless scripts/pip-audit-explained.txt explains it;
# an unreachable vulnerability database is a loud warning, not a pass in silence (scripts/audit_deps.py).
echo "== pip-audit (installed set)"
"$PY" scripts/audit_deps.py || failed+=("pip-audit")

echo "== pytest $*"
status=0
pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "test.sh: pytest collected no tests: that is a failure" >&2
fi
if [[ $status -ne 0 ]]; then
    failed+=("pytest (exit $status)")
fi

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "" >&2
    echo "test.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "test.sh: all checks passed"
