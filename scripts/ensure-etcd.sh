#!/usr/bin/env bash
# Prints one line on stdout: the client URL of an etcd server the tests can use.
# Progress goes to stderr, so callers can write URL=$(bash scripts/ensure-etcd.sh).
#
# Tries, in order:
#   1. PARLEY_TEST_ETCD_URL, when it is set and answers;
#   2. an etcd on 127.0.0.1:$PARLEY_ETCD_PROBE_PORT (default 22379, where the
#      private one below listens, so a second run reuses it);
#   3. a private etcd with its data in $REPO/.data/etcd (client 22379, peer 22380,
#      metrics 22381), installing the Debian package etcd-server with apt-get when
#      the etcd binary is missing.
# The private etcd holds test data only; tests that stop or restart etcd start
# their own on free ports (packages/testkit startEtcd) and never touch this one.
#
#   bash scripts/ensure-etcd.sh stop   # stops the private etcd, if running
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROBE_PORT=${PARLEY_ETCD_PROBE_PORT:-22379}
# Below 32768: ports in the ephemeral range can be held by other processes' client sockets.
CLIENT_PORT=22379
PEER_PORT=22380
METRICS_PORT=22381
ETCD_DIR="$REPO/.data/etcd"
PID_FILE="$ETCD_DIR/etcd.pid"
# etcd usually answers within a second; a loaded CI machine gets far more room.
START_TIMEOUT_S=60

log() { echo "ensure-etcd: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# True when the etcd behind the base URL reports itself healthy on /health.
# Plain bash (/dev/tcp), so a fresh machine needs neither curl nor etcdctl.
answers() {
  local rest=${1#http://} host port
  rest=${rest%%/*}
  host=${rest%:*}
  port=${rest##*:}
  [[ -n $host && $port =~ ^[0-9]+$ ]] || return 1
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "GET /health HTTP/1.0\r\nHost: %s\r\n\r\n" "$1" >&3
    grep -q "\"health\":\"true\"" <&3
  ' _ "$host" "$port" 2>/dev/null
}

install_etcd() {
  command -v etcd >/dev/null 2>&1 && return 0
  [[ $(id -u) == 0 ]] || fail "etcd is not installed and installing it needs root (apt-get install etcd-server)"
  command -v apt-get >/dev/null 2>&1 || fail "etcd is not installed and apt-get is not available"
  log "etcd not found; installing etcd-server with apt-get"
  apt-get update >&2
  # The package also tries to start its own system service. Where that is
  # refused (containers, no systemd) apt may report an error although the
  # binary is installed, so the binary decides, not apt's exit code.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server >&2 ||
    log "apt-get reported an error (often only the package's own service failing to start)"
  command -v etcd >/dev/null 2>&1 || fail "installing etcd-server did not provide an etcd binary"
}

start_private_etcd() {
  local url="http://127.0.0.1:$CLIENT_PORT"
  if answers "$url"; then
    log "reusing the etcd on port $CLIENT_PORT"
    echo "$url"
    return 0
  fi
  install_etcd
  mkdir -p "$ETCD_DIR"
  # etcd 3.4 refuses to start on arm64 unless told that the platform is "unsupported".
  [[ $(uname -m) == aarch64 ]] && export ETCD_UNSUPPORTED_ARCH=arm64
  log "starting a private etcd on 127.0.0.1:$CLIENT_PORT (log: $ETCD_DIR/log)"
  # setsid: the server outlives this script and the test run, like the private
  # Postgres cluster does, so the next run reuses it instead of starting again.
  setsid etcd --name parley-test --data-dir "$ETCD_DIR/data" \
    --logger=zap --log-level=warn \
    --listen-client-urls "$url" --advertise-client-urls "$url" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "parley-test=http://127.0.0.1:$PEER_PORT" \
    --listen-metrics-urls "http://127.0.0.1:$METRICS_PORT" \
    </dev/null >>"$ETCD_DIR/log" 2>&1 &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until answers "$url"; do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$ETCD_DIR/log" >&2; fail "etcd exited during start; see $ETCD_DIR/log"; }
    ((SECONDS < deadline)) || fail "etcd did not become healthy within ${START_TIMEOUT_S} s; see $ETCD_DIR/log"
    sleep 0.2
  done
  log "etcd is healthy (pid $pid)"
  echo "$url"
}

stop_private_etcd() {
  if [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    local pid
    pid=$(cat "$PID_FILE")
    log "stopping the private etcd (pid $pid)"
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$PID_FILE"
  else
    log "the private etcd is not running"
  fi
}

main() {
  if [[ ${1:-} == stop ]]; then
    stop_private_etcd
    return 0
  fi
  if [[ -n ${PARLEY_TEST_ETCD_URL:-} ]]; then
    if answers "$PARLEY_TEST_ETCD_URL"; then
      log "using PARLEY_TEST_ETCD_URL"
      echo "$PARLEY_TEST_ETCD_URL"
      return 0
    fi
    log "PARLEY_TEST_ETCD_URL is set but does not answer; looking for another server"
  fi
  local probe_url="http://127.0.0.1:$PROBE_PORT"
  if answers "$probe_url"; then
    log "using the etcd on 127.0.0.1:$PROBE_PORT"
    echo "$probe_url"
    return 0
  fi
  log "no etcd answers on 127.0.0.1:$PROBE_PORT"
  start_private_etcd
}

main "$@"
