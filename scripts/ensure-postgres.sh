#!/usr/bin/env bash
# Prints one line on stdout: an admin URL of a Postgres server the tests can use.
# Progress goes to stderr, so callers can write URL=$(bash scripts/ensure-postgres.sh).
#
# Tries, in order:
#   1. PARLEY_TEST_PG_URL, when it is set and answers;
#   2. a server on 127.0.0.1:$PARLEY_PG_PROBE_PORT (default 5432) as user postgres;
#   3. a private throwaway cluster in $REPO/.data/pg on port 25432 (reused when it
#      is already running), installing PostgreSQL with apt-get if pg_config is missing.
# The private cluster trades durability for speed (fsync off): it holds test data only.
#
#   bash scripts/ensure-postgres.sh stop   # stops the private cluster, if running
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROBE_PORT=${PARLEY_PG_PROBE_PORT:-5432}
# Below 32768: ports in the ephemeral range can be held by other processes' client sockets.
PRIVATE_PORT=25432
PG_DIR="$REPO/.data/pg"
PG_DATA="$PG_DIR/data"
export PGCONNECT_TIMEOUT=5

log() { echo "ensure-postgres: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# Runs a command as the user that may own the cluster: postgres refuses to run as root.
as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_bin() {
  if command -v psql >/dev/null 2>&1; then echo psql
  elif command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/psql" ]]; then echo "$(pg_config --bindir)/psql"
  else return 1
  fi
}

# True when the server behind the URL accepts a query.
answers() {
  local psql
  psql=$(psql_bin) || return 1
  "$psql" "$1" -w -Atqc 'select 1' >/dev/null 2>&1
}

install_postgres() {
  command -v pg_config >/dev/null 2>&1 && return 0
  [[ $(id -u) == 0 ]] || fail "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
  command -v apt-get >/dev/null 2>&1 || fail "PostgreSQL is not installed and apt-get is not available"
  log "pg_config not found; installing postgresql with apt-get"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
}

# The postgres user must be able to reach the data folder through every parent.
make_parents_traversable() {
  local dir=$PG_DIR
  while [[ $dir != / ]]; do
    dir=$(dirname "$dir")
    if ! runuser -u postgres -- test -x "$dir"; then
      log "granting traverse permission on $dir to other users"
      chmod o+x "$dir"
    fi
  done
}

prepare_folder() {
  mkdir -p "$PG_DIR"
  if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || fail "the postgres system user does not exist"
    chown -R postgres:postgres "$PG_DIR"
    make_parents_traversable
  fi
}

start_private_cluster() {
  local url="postgres://postgres@127.0.0.1:$PRIVATE_PORT/postgres"
  if answers "$url"; then
    log "reusing the private cluster on port $PRIVATE_PORT"
    echo "$url"
    return 0
  fi
  install_postgres
  local bin
  bin=$(pg_config --bindir)
  prepare_folder
  if [[ ! -f $PG_DATA/PG_VERSION ]]; then
    log "creating a private cluster in $PG_DATA"
    # --no-sync: a crash during setup only costs a fresh initdb of a throwaway cluster.
    as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync \
      >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; fail "initdb failed"; }
  fi
  log "starting the private cluster on 127.0.0.1:$PRIVATE_PORT (log: $PG_DIR/log)"
  as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/log" -w -t 60 \
    -o "-p $PRIVATE_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 || fail "the private cluster did not start; see $PG_DIR/log"
  answers "$url" || fail "the private cluster started but does not answer on port $PRIVATE_PORT; see $PG_DIR/log"
  echo "$url"
}

stop_private_cluster() {
  if [[ -f $PG_DATA/postmaster.pid ]] && command -v pg_config >/dev/null 2>&1; then
    log "stopping the private cluster in $PG_DATA"
    as_pg "$(pg_config --bindir)/pg_ctl" -D "$PG_DATA" -m fast -w stop >&2
  else
    log "the private cluster is not running"
  fi
}

main() {
  if [[ ${1:-} == stop ]]; then
    stop_private_cluster
    return 0
  fi
  if [[ -n ${PARLEY_TEST_PG_URL:-} ]]; then
    if answers "$PARLEY_TEST_PG_URL"; then
      log "using PARLEY_TEST_PG_URL"
      echo "$PARLEY_TEST_PG_URL"
      return 0
    fi
    log "PARLEY_TEST_PG_URL is set but does not answer; looking for another server"
  fi
  local local_url="postgres://postgres@127.0.0.1:$PROBE_PORT/postgres"
  if answers "$local_url"; then
    log "using the server on 127.0.0.1:$PROBE_PORT"
    echo "$local_url"
    return 0
  fi
  log "no server answers on 127.0.0.1:$PROBE_PORT"
  start_private_cluster
}

main "$@"
