#!/usr/bin/env bash
# Set everything up, then run every check: lint, format, types, layer contracts, and the whole test suite
# (unit, integration and end-to-end tests on a real local fleet).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
bash scripts/setup.sh
printf '\n==> quality gates\n'
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
printf '\n==> tests\n'
.venv/bin/pytest "$@"
printf '\ntotal: %ss\n' "$((SECONDS - t0))"
