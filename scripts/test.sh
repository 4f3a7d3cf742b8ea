#!/usr/bin/env bash
# Set everything up, then run every check: lint, format, types, layer contracts, and the whole test suite
# (unit, integration and end-to-end tests on a real local fleet).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
bash scripts/setup.sh
prebuild=
if [ $# -eq 0 ]; then
  # Binaries only some tests need (Cluster API's and CAPA's managers, istiod's pilot-discovery; no release
  # ships them) are built meanwhile, at the lowest CPU priority: the suite leaves a core idle much of the
  # time, so a cold run saves most of their ~9 minutes. A test that needs one first waits for the build's
  # lock. Already built, this takes a second; still running when the tests are done, it is stopped. On a
  # machine something else keeps busy it gets no CPU: a test waiting for it then stops it and builds itself
  # (KURATOR_BUILD_GIVES_WAY, kurator.binaries.giveway).
  prebuild_log=$(mktemp)
  KURATOR_BUILD_GIVES_WAY=1 setsid nice -n 19 .venv/bin/kurator local fetch --source "${KURATOR_BINARY_SOURCE:-build}" --cluster-api --istiod \
    >"$prebuild_log" 2>&1 &
  prebuild=$!
  # its own process group: go's compilers too
  trap 'kill -- "-$prebuild" 2>/dev/null || true; rm -f "$prebuild_log"' EXIT
fi
printf '\n==> quality gates\n'
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
printf '\n==> tests\n'
.venv/bin/pytest "$@"
if [ -n "$prebuild" ] && ! kill -0 "$prebuild" 2>/dev/null; then
  prebuild_rc=0
  wait "$prebuild" || prebuild_rc=$?
  # Not a failure of the suite (whatever a test needed it built itself), but said, with the reason.
  if [ "$prebuild_rc" -eq 143 ]; then
    printf '\nthe background build of Cluster API and istiod gave way to a test that needed it (no CPU for it)\n'
  elif [ "$prebuild_rc" -ne 0 ]; then
    printf '\nthe background build of Cluster API and istiod failed:\n'
    tail -n 20 "$prebuild_log"
  fi
fi
printf '\ntotal: %ss\n' "$((SECONDS - t0))"
