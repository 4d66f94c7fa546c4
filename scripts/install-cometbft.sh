#!/usr/bin/env bash
# Install the pinned CometBFT binary (default v0.38.26; override with
# COMETBFT_VERSION) via `go install`, unless that exact version is already
# available. Messages go to stderr; the last line of stdout is the absolute
# path of the binary, so callers can do:
#   CMT=$(scripts/install-cometbft.sh | tail -1)
set -euo pipefail

VERSION="${COMETBFT_VERSION:-0.38.26}"
VERSION="${VERSION#v}"

log() { echo "install-cometbft: $*" >&2; }

export PATH="/usr/local/go/bin:$PATH"
GOBIN_DIR=""
if command -v go >/dev/null 2>&1; then
  GOBIN_DIR="$(go env GOBIN)"
  [ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH | cut -d: -f1)/bin"
  export PATH="$PATH:$GOBIN_DIR"
fi

# Prints the absolute path of a cometbft binary reporting exactly $VERSION.
find_installed() {
  local cand v seen=""
  for cand in "$(command -v cometbft 2>/dev/null || true)" "${GOBIN_DIR:+$GOBIN_DIR/cometbft}"; do
    if [ -z "$cand" ] || [ ! -x "$cand" ] || [ "$cand" = "$seen" ]; then continue; fi
    seen="$cand"
    v="$("$cand" version 2>/dev/null | head -n1 | tr -d '[:space:]' || true)"
    if [ "${v#v}" = "$VERSION" ]; then
      (cd "$(dirname "$cand")" && echo "$(pwd -P)/$(basename "$cand")")
      return 0
    fi
    log "found $cand reporting version '${v:-?}', want $VERSION"
  done
  return 1
}

if path="$(find_installed)"; then
  log "cometbft $VERSION already installed at $path"
  echo "$path"
  exit 0
fi

if [ -z "$GOBIN_DIR" ]; then
  log "error: Go is not installed (looked on PATH and in /usr/local/go/bin);"
  log "install Go >= 1.22 or put cometbft $VERSION on PATH"
  exit 1
fi

log "installing github.com/cometbft/cometbft/cmd/cometbft@v$VERSION into $GOBIN_DIR"
go install "github.com/cometbft/cometbft/cmd/cometbft@v$VERSION" >&2

if ! path="$(find_installed)"; then
  log "error: go install finished but $GOBIN_DIR/cometbft does not report version $VERSION"
  exit 1
fi
log "installed cometbft $VERSION at $path"
echo "$path"
