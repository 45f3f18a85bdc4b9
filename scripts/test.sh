#!/bin/bash
# The full test suite, from a fresh clone: setup (packages, npm ci, build), then unit,
# integration and end-to-end tests in one node:test run so its closing summary counts
# them all. Runs as root: integration tests create (and remove) real bridges, taps and
# nft tables with a "zt" test prefix; the adversarial tier makes a throwaway user ("bgta…")
# that races the real root helper.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== lint: one format (120 columns) and the lint rules (no import cycles, no unused code)"
npm run --silent lint

# Globs, not directories: since Node 22 `node --test DIR` no longer expands a directory.
suites=('build/src/**/*.test.js' 'build/test/conventions/*.test.js' 'build/test/integration/*.test.js'
  'build/test/adversarial/*.test.js')
[ -d build/test/e2e ] && suites+=('build/test/e2e/*.test.js')

echo "== tests: ${suites[*]}"
# One file at a time: the e2e tier boots real VMs and our machines have two cores.
exec node --test --test-reporter=spec --test-concurrency=1 --test-timeout=900000 "${suites[@]}"
