#!/usr/bin/env bash
# Quick start 1: set up, bring the database to head, load the demo home, serve every module in one process.
#
# Serves on http://127.0.0.1:8000 (HOST and PORT override) with the embedded SQLite database under
# data/ (HOMEIQ_DATA_DIR, or DATABASE_URL, override). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export HOST PORT

homeiq-ai db upgrade

# A synthetic demo home (30 days of a single-family home), so there is something to look at without a
# Home Assistant. It loads only into a database that holds no events yet.
homeiq-ai demo

cat <<BANNER

  homeiq-ai, all modules in one process, on http://$HOST:$PORT
    the page (start here):  http://$HOST:$PORT/
    API docs (Swagger UI):  http://$HOST:$PORT/schema/swagger
    readiness:              http://$HOST:$PORT/health/ready
    the demo home:          http://$HOST:$PORT/api/v1/home/entities?domain=light
    routines, suggestions:  http://$HOST:$PORT/api/v1/patterns and /api/v1/suggestions
    configuration in force: .venv/bin/homeiq-ai config
  On a database without suggestions, the home is analysed once now and suggestions are made.
  Ctrl-C stops it.

BANNER

homeiq-ai serve --modules all --host "$HOST" --port "$PORT" &
SERVER=$!
trap 'kill -TERM "$SERVER" 2>/dev/null || true' INT TERM
# 0.0.0.0 is no address to connect to: the first run talks to loopback then.
CONNECT_HOST="$HOST"
[[ "$HOST" == "0.0.0.0" || "$HOST" == "::" ]] && CONNECT_HOST=127.0.0.1
.venv/bin/python scripts/first_run.py "http://$CONNECT_HOST:$PORT" || true
set +e
wait "$SERVER"
status=$?
# A second wait after a trapped signal reaps the server once it has shut down.
kill -0 "$SERVER" 2>/dev/null && wait "$SERVER" && status=$?
exit "$status"
