#!/usr/bin/env bash
# Headless Chromium for the digest screenshot test (tests/digest_cli.rs).
#
#   eval "$(scripts/services/chromium.sh)"   # prints `export ECOWATCH_TEST_CHROMIUM=...`
#
# Finds `chromium`, `chromium-browser` or `google-chrome` on PATH; when none is there and we are
# root, installs Debian's `chromium` with apt-get (as scripts/services/postgres.sh does for
# PostgreSQL). Progress goes to stderr; stdout carries only the export line.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }
die() { log "$*"; exit 1; }

find_browser() {
    local name
    for name in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

browser=$(find_browser) || {
    [[ $EUID -eq 0 ]] || die "no chromium on PATH; install Debian's 'chromium' package (needs root)"
    log "installing Chromium (apt-get install chromium)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
    browser=$(find_browser) || die "chromium installed, but not on PATH"
}
log "using $browser"
printf 'export ECOWATCH_TEST_CHROMIUM=%q\n' "$browser"
