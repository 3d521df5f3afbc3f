#!/usr/bin/env bash
# The project's test command (`npm test`): proto lint, type-check, then every
# test file against a real Postgres server. Extra arguments go to the test
# runner, e.g. `npm test -- --test-name-pattern=relational`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The pinned Node 24 (devDependency "node"), also when this script is run with bash directly.
export PATH="$PWD/node_modules/.bin:$PATH"

echo "test: buf lint" >&2
npx buf lint

echo "test: tsc" >&2
npx tsc -p tsconfig.json

# Assigned before export: `export VAR=$(cmd)` would hide a failure of cmd from set -e.
PARLEY_TEST_PG_URL=$(bash scripts/ensure-postgres.sh)
export PARLEY_TEST_PG_URL

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
# --test-force-exit: a test file that leaves a handle open (a client still
# reconnecting) must fail its own tests, not hang CI until its time runs out.
node --import tsx --test --test-concurrency=1 --test-timeout=120000 --test-force-exit "$@" "${files[@]}"
