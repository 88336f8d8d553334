#!/usr/bin/env bash
# Quick start 1: set up, bring the database to head, and serve every module in one process.
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

# --- demo home: load it here, before serving --------------------------------------------------
# (A demo-home loader will be added at this spot, e.g. `homeiq-ai demo load`.)
# ------------------------------------------------------------------------------------------------

cat <<BANNER

  homeiq-ai, all modules in one process, on http://$HOST:$PORT
    API docs (Swagger UI):  http://$HOST:$PORT/schema/swagger
    readiness:              http://$HOST:$PORT/health/ready
    configuration in force: .venv/bin/homeiq-ai config
  Ctrl-C stops it.

BANNER

exec homeiq-ai serve --modules all --host "$HOST" --port "$PORT"
