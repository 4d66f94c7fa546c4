#!/usr/bin/env bash
# Installs what building and testing Aegis needs beyond Rust, Go and Node,
# when it is missing: libclang (for the RocksDB build), the pinned CometBFT,
# and with --test also grpcurl and the cosmjs packages of the client tests.
# Safe to run repeatedly; each step is skipped when already satisfied.
#   scripts/prereqs.sh [--test]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GRPCURL_VERSION=v1.9.3
log() { echo "prereqs: $*" >&2; }

export PATH="/usr/local/go/bin:$PATH"
if command -v go >/dev/null 2>&1; then export PATH="$(go env GOPATH)/bin:$PATH"; fi

for tool in cargo go; do
  command -v "$tool" >/dev/null 2>&1 || { log "$tool is required but not installed (Rust via rustup; Go 1.22+)"; exit 1; }
done

# libclang: bindgen needs it to build RocksDB's bindings.
if ! ldconfig -p 2>/dev/null | grep -q 'libclang\(-[0-9.]*\)\?\.so'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing libclang-dev and clang with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev clang >/dev/null
  else
    log "libclang is missing: install it (Debian/Ubuntu: sudo apt-get install libclang-dev clang)"
    exit 1
  fi
fi

"$ROOT/scripts/install-cometbft.sh" >/dev/null

if [ "${1:-}" = "--test" ]; then
  if ! command -v grpcurl >/dev/null 2>&1; then
    log "installing grpcurl $GRPCURL_VERSION with go install"
    go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
  fi
  command -v node >/dev/null 2>&1 || { log "node (Node.js 18+) is required for the cosmjs client test"; exit 1; }
  cosmjs="$ROOT/node/tests/clients/cosmjs"
  if [ ! -d "$cosmjs/node_modules/@cosmjs/stargate" ] || [ "$cosmjs/package-lock.json" -nt "$cosmjs/node_modules/.package-lock.json" ]; then
    log "installing the cosmjs test client (npm ci)"
    (cd "$cosmjs" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
