#!/usr/bin/env bash
# Prints one line on stdout: the path of a Chromium the browser tests can drive
# with playwright-core (test/web-app.e2e.test.ts). Progress goes to stderr, so
# callers can write PARLEY_TEST_CHROMIUM=$(bash scripts/ensure-chromium.sh).
#
# Uses PARLEY_TEST_CHROMIUM when it names an executable, else /usr/bin/chromium,
# installing Debian's `chromium` package with apt-get when it is missing. Never
# `npx playwright install`: that downloads a browser build of its own, which
# this project's machines cannot fetch (docs: STACK-NOTES section 11).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

log() { echo "ensure-chromium: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

if [[ -n ${PARLEY_TEST_CHROMIUM:-} ]]; then
  [[ -x $PARLEY_TEST_CHROMIUM ]] || fail "PARLEY_TEST_CHROMIUM=$PARLEY_TEST_CHROMIUM is not an executable"
  echo "$PARLEY_TEST_CHROMIUM"
  exit 0
fi

if [[ ! -x $CHROMIUM ]]; then
  [[ $(id -u) == 0 ]] || fail "Chromium is not installed and installing it needs root (apt-get install chromium)"
  command -v apt-get >/dev/null 2>&1 || fail "Chromium is not installed and apt-get is not available"
  log "$CHROMIUM not found; installing Debian's chromium with apt-get"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2
  [[ -x $CHROMIUM ]] || fail "installing chromium did not provide $CHROMIUM"
fi
log "using $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
echo "$CHROMIUM"
