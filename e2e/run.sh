#!/usr/bin/env bash
# clawgate end-to-end tests against REAL gateways (OpenClaw 2026.9.6 and
# Clawdbot 2026.1.24-3 from the npm registry). Needs Go, Node >= 20 and npm.
#
#   bash e2e/run.sh                       # everything
#   bash e2e/run.sh -run 'TestAskSubagent' # extra args go to `go test`
#
# Installs Node 24 and the gateways into ${CLAWGATE_E2E_CACHE:-~/.cache/clawgate-e2e}
# (npm downloads in its npm/ subdir unless npm_config_cache is set); later runs
# reuse them. Run state and logs go to a temporary directory under
# e2e/.work/, removed after a passing run (CLAWGATE_E2E_KEEP=1 keeps it).
# See e2e/README.md for the other CLAWGATE_E2E_* variables.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in go node npm; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is required" >&2; exit 2; }
done

# Every process the tests start carries CLAWGATE_E2E_CHILD=<run id>.<n>. The
# test binary stops them itself (also on SIGINT/SIGTERM); this trap is the
# last resort if the test binary itself is killed. It signals only processes
# that carry this run's marker.
export CLAWGATE_E2E_RUN="e2e-$$-$(date +%s)"
export CLAWGATE_E2E_WORK="${CLAWGATE_E2E_WORK:-$PWD/e2e/.work}"
sweep() {
  local d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    if { tr '\0' '\n' < "$d/environ"; } 2>/dev/null | grep -q "^CLAWGATE_E2E_CHILD=$CLAWGATE_E2E_RUN\."; then
      echo "e2e: killing leftover process $pid ($({ tr '\0' ' ' < "$d/cmdline"; } 2>/dev/null | cut -c1-80))" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}
trap sweep EXIT

start=$(date +%s)
status=0
go test -tags e2e -count=1 -timeout 40m -v "$@" ./e2e/ || status=$?
echo "e2e: finished with status $status in $(( $(date +%s) - start ))s" >&2
exit "$status"
