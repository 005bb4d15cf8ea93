#!/bin/bash
# `make test`: set up, start the lab and a PostgreSQL, run lint + the whole suite, stop the lab.
# Lab and PostgreSQL tests must not skip here (ORCH_REQUIRE_*=1): CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
LAB_HOSTS=${LAB_HOSTS:-12}

bash lab/postgres.sh                       # prints the URL of a reachable server
export ORCH_TEST_PG_URL=${ORCH_TEST_PG_URL:-$(bash lab/postgres.sh --url)}
export ORCH_REQUIRE_LAB=1 ORCH_REQUIRE_PG=1

echo "== lint (ruff, mypy --strict, import-linter)"
"$VENV/bin/ruff" check orchestrator tests lab
"$VENV/bin/mypy"
"$VENV/bin/lint-imports"

echo "== lab up ($LAB_HOSTS hosts + devices)"
trap 'echo "== lab down"; bash lab/down.sh' EXIT
bash lab/up.sh "$LAB_HOSTS"

echo "== tests"
"$VENV/bin/pytest" -q "$@"
