#!/usr/bin/env bash
# The main job: set everything up, bring up a local fleet (a host and two member clusters of real control
# planes with kwok fake nodes), show its status once and the lines to copy next.
# `.venv/bin/kurator local down` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '\n==> local fleet\n'
.venv/bin/kurator local up "$@"
