#!/usr/bin/env bash
# The project's test command (`npm test`): proto lint and breaking-change check, lint and
# format check, type-check, then every test file against a real Postgres server and a real
# etcd. Extra arguments go to the test runner, e.g. `npm test -- --test-name-pattern=relational`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The pinned Node 24 (devDependency "node"), also when this script is run with bash directly.
export PATH="$PWD/node_modules/.bin:$PATH"

echo "test: buf lint" >&2
npx buf lint

# The contracts may only grow compatibly: every change is checked against the last
# release's image (package.json's proto:breaking names it; proto-releases/README.md).
echo "test: buf breaking" >&2
npm run --silent proto:breaking

# Lint (including the import directions in biome.json) and the formatting check.
echo "test: biome ci" >&2
npx biome ci .

echo "test: tsc" >&2
npx tsc -p tsconfig.json

# The tests make a private CA and certificates with openssl (packages/testkit/src/credentials.ts).
if ! command -v openssl > /dev/null; then
  echo "test: openssl not found; installing it with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl > /dev/null
fi

# Assigned before export: `export VAR=$(cmd)` would hide a failure of cmd from set -e.
PARLEY_TEST_PG_URL=$(bash scripts/ensure-postgres.sh)
export PARLEY_TEST_PG_URL
PARLEY_TEST_ETCD_URL=$(bash scripts/ensure-etcd.sh)
export PARLEY_TEST_ETCD_URL

# Node 24 expands quoted globs itself, but silently ignores a pattern that
# matches nothing and exits 0 with "tests 0" when none match. Expand here
# instead, so an empty run is an error and never a green build.
shopt -s globstar nullglob
files=(packages/*/test/**/*.test.ts services/*/test/**/*.test.ts gateway/test/**/*.test.ts test/**/*.test.ts)
shopt -u globstar nullglob
if ((${#files[@]} == 0)); then
  echo "test: ERROR: no test files found (*.test.ts under packages/*/test, services/*/test, gateway/test, test)" >&2
  exit 1
fi

echo "test: running ${#files[@]} test files" >&2
# No --test-force-exit: in one run here it ended a test file before all its
# tests had run and still reported success. A file that leaves a handle open
# (a client still reconnecting) would hang instead, so the whole run has a
# deadline and fails rather than waits for CI's time limit.
timeout --kill-after=30s 45m node --import tsx --test --test-concurrency=1 --test-timeout=120000 "$@" "${files[@]}"
