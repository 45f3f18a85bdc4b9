#!/bin/bash
# The full test suite, from a fresh clone: setup (packages, a supported Node, npm ci,
# build), then unit, integration, adversarial and end-to-end tests in one node:test run
# on the setup's Node, so its closing summary counts them all. Then the same build again
# on the other supported lines (scripts/node-runtimes.env), each fetched from the npm
# registry into runtime/node-<version>: unit and integration tests on NODE_NEWEST_LTS,
# unit tests on NODE_OLDEST. It ends with one line per runtime (version, pass and fail
# counts) and fails when any run did.
#
# Runs as root: integration tests create (and remove) real bridges, taps and nft tables
# with a "zt" test prefix; the adversarial tier makes a throwaway user ("bgta…") that races
# the real root helper.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# shellcheck source=scripts/node-runtimes.env
. scripts/node-runtimes.env
# shellcheck source=scripts/lib/node-runtime.sh
. scripts/lib/node-runtime.sh
use_supported_node "$PWD" # the setup's node (and npm) first on PATH here too

echo "== lint: one format (120 columns) and the lint rules (no import cycles, no unused code)"
npm run --silent lint

# Globs, not directories: since Node 22 `node --test DIR` no longer expands a directory.
unit='build/src/**/*.test.js'
conventions='build/test/conventions/*.test.js'
integration='build/test/integration/*.test.js'
adversarial='build/test/adversarial/*.test.js'
e2e='build/test/e2e/*.test.js'

results=build/test-results
rm -rf "$results"
mkdir -p "$results"
summary=()
failed=0

# run_suite NODE LABEL GLOB...: one node:test run, spec on the terminal and TAP in a file
# whose closing "# pass N" / "# fail N" lines feed the summary.
run_suite() {
  local node=$1 label=$2
  shift 2
  local version tap start rc=0
  version=$("$node" --version)
  tap="$results/$version-${label%% *}.tap"
  start=$(date +%s)
  echo "== tests on node $version ($label): $*"
  # One file at a time: the e2e tier boots real VMs and our machines have two cores.
  "$node" --test --test-concurrency=1 --test-timeout=900000 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@" || rc=$?
  local pass fail secs=$(($(date +%s) - start))
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n1)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n1)
  if [ "$rc" -ne 0 ] || [ "${fail:-1}" != 0 ] || [ -z "$pass" ]; then failed=1; fi
  summary+=("$(printf 'node %-9s %-56s pass %-4s fail %-4s %4ss%s' "$version" "$label" "${pass:-?}" "${fail:-?}" \
    "$secs" "$([ "$rc" -ne 0 ] && echo "  (exit $rc)")")")
  # Name what failed in the summary too: a CI log is often read from its tail, far below the
  # spec reporter's own list of failures. Test names first; file-level entries say which file.
  local failure
  while IFS= read -r failure; do
    summary+=("    failed: $failure")
  done < <(sed -n 's/^ *not ok [0-9]* - //p' "$tap" | head -n 20)
}

suites=("$unit" "$conventions" "$integration" "$adversarial")
[ -d build/test/e2e ] && suites+=("$e2e")
run_suite "$(command -v node)" "full (unit, conventions, integration, adversarial, e2e)" "${suites[@]}"

# The other lines, never replacing runtime/node (the setup's runtime when the host's node is too old).
if ensure_node "$NODE_NEWEST_LTS" "runtime/node-$NODE_NEWEST_LTS"; then
  run_suite "runtime/node-$NODE_NEWEST_LTS/bin/node" "newest LTS (unit, integration)" "$unit" "$integration"
else
  failed=1
  summary+=("node v$NODE_NEWEST_LTS  could not be fetched")
fi
if ensure_node "$NODE_OLDEST" "runtime/node-$NODE_OLDEST"; then
  run_suite "runtime/node-$NODE_OLDEST/bin/node" "oldest supported (unit)" "$unit"
else
  failed=1
  summary+=("node v$NODE_OLDEST  could not be fetched")
fi

echo
echo "== summary (TAP files in $results/)"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "FAILED: at least one run above failed" >&2
  exit 1
fi
echo "all runs passed"
