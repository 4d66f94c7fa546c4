#!/usr/bin/env bash
# The whole test suite: unit and property tests of the state machine, and
# end-to-end tests that run real cometbft and aegisd processes on loopback.
# Installs what a fresh machine lacks first (scripts/prereqs.sh --test).
#   scripts/test.sh                 the whole suite (cargo test --workspace)
#   scripts/test.sh -p aegis-app    arguments replace --workspace
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/prereqs.sh --test
export PATH="/usr/local/go/bin:$(/usr/local/go/bin/go env GOPATH 2>/dev/null || go env GOPATH)/bin:$PATH"
if [ "$#" -gt 0 ]; then
  cargo test "$@"
else
  cargo test --workspace
fi
