#!/usr/bin/env bash
# The project's test command (`npm test`): proto lint and breaking-change check, lint and
# format check, type-check, then every test file against a real Postgres server and a real
# etcd (from the TypeScript sources; test/built-output.e2e.test.ts builds and runs the
# compiled output), then the image recipe. Extra arguments go to the test runner, e.g.
# `npm test -- --test-name-pattern=relational`.
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

# The Helm chart: helm lint --strict, helm template with the default, production and
# every-option values, and every rendered object against the Kubernetes API schema (no cluster).
echo "test: helm chart" >&2
bash scripts/check-helm.sh

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
# The web app's browser tests (test/web-app*.e2e.test.ts) drive Debian's Chromium with
# playwright-core; the script installs it with apt-get when it is missing.
PARLEY_TEST_CHROMIUM=$(bash scripts/ensure-chromium.sh)
export PARLEY_TEST_CHROMIUM

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

# Two groups. Test files share nothing that would make them interfere: each makes
# its own throwaway databases (unique names) on the one Postgres server, its own
# key prefix on the one etcd, ports from 0 or freePorts(), temporary folders, and
# any etcd or Postgres it stops is a private one. So they run PARALLEL at a time,
# each in its own process. Two, for the two-core machines this runs on: on one
# busy with other work, the whole run took 590 s one file at a time and about
# 305 s two at a time (240 s here, 68 s for the serial group); three at a time
# was no faster and made each end-to-end file about twice as slow as alone.
# PARLEY_TEST_CONCURRENCY overrides it. The files below run after them, one at a
# time: they assert how soon something happens after a kill or a lease expiry,
# with margins meant for a machine that is not also running other test files.
PARALLEL=${PARLEY_TEST_CONCURRENCY:-2}
serial=(
  packages/mesh/test/etcd-faults.test.ts        # fenced within 100 ms of its lease window
  packages/mesh/test/process-death.test.ts      # a SIGKILLed holder's lease gone within TTL + 3 s
  services/idgen/test/leased-worker-ids.test.ts # SIGSTOP across a TTL, wall-clock spans of 1,000,000 ids
  test/discovery.e2e.test.ts                    # clients back on a live gateway within 15 s of a SIGKILL
  test/replicas.e2e.test.ts                     # acks within 2 s of a chat instance's SIGKILL
  test/presence-replicas.e2e.test.ts            # acks within 2 s of a presence instance's SIGKILL; takeover timed
  test/gateway-failover.e2e.test.ts             # 2,000 clients back within 5 s of a gateway's SIGKILL
)
parallel=()
for file in "${files[@]}"; do
  [[ " ${serial[*]} " == *" $file "* ]] || parallel+=("$file")
done
for file in "${serial[@]}"; do
  [[ -f $file ]] || { echo "test: ERROR: $file, listed as serial in scripts/test.sh, does not exist" >&2; exit 1; }
done

# No --test-force-exit: in one run here it ended a test file before all its
# tests had run and still reported success. A file that leaves a handle open
# (a client still reconnecting) would hang instead, so each group has a
# deadline and fails rather than waits for CI's time limit.
run_group() {
  local concurrency=$1 deadline=$2
  shift 2
  timeout --kill-after=30s "$deadline" node --conditions=@parley/source --import tsx --test --test-concurrency="$concurrency" --test-timeout=120000 "$@"
}

# Both groups run even when the first fails, so one run shows every failure.
status=0
echo "test: running ${#parallel[@]} test files, $PARALLEL at a time" >&2
run_group "$PARALLEL" 30m "$@" "${parallel[@]}" || status=$?
echo "test: running ${#serial[@]} timing-sensitive test files one at a time" >&2
run_group 1 15m "$@" "${serial[@]}" || status=$?

# The image recipe: the Dockerfile's build steps replayed without a Docker engine and its
# runtime stage started and checked (scripts/image-recipe.sh). About two minutes, so a run
# narrowed by test runner arguments skips it.
if (($# == 0)); then
  echo "test: image recipe (scripts/image-recipe.sh)" >&2
  bash scripts/image-recipe.sh || status=$?
else
  echo "test: NOT RUN: image recipe (test runner arguments given)" >&2
fi

# Suites that need an engine this machine may not have register no tests
# without it (a skipped test would read as a pass); say so last, where a
# reader of the CI log looks.
if [[ -z ${KAFKA_BROKERS:-} ]]; then
  echo "test: NOT RUN: Kafka delivery bus contract suite (KAFKA_BROKERS is not set)" >&2
fi
if [[ -z ${CASSANDRA_CONTACT_POINTS:-} ]]; then
  echo "test: NOT RUN: Cassandra message store contract suite (CASSANDRA_CONTACT_POINTS is not set)" >&2
fi
exit "$status"
