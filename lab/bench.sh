#!/bin/bash
# `make bench` (not part of `make test`): fan-out benchmark over the lab. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${VENV:-.venv}/bin/python" lab/bench.py "$@"
