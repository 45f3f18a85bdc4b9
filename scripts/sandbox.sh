#!/bin/bash
# The README's first command: set up (packages, a supported Node, npm ci, build), then hand over to
# `banger vm run` with any arguments given, e.g. `scripts/sandbox.sh ./repo -- make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
exec bin/banger vm run "$@"
