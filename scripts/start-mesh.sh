#!/usr/bin/env bash
# `npm run mesh`: the distributed mode on one machine. Finds or starts etcd and
# Postgres (the same scripts the tests use), then runs account, idgen,
# presence, notify, chat and two gateways, each its own process, all finding
# one another through etcd (MESH_REPLICAS=2 runs two of account, idgen,
# presence, notify and chat). Gateway 1 serves http://127.0.0.1:8080 (zone-a),
# gateway 2 http://127.0.0.1:8081 (zone-b); either answers PickGateway.
# The internal plane runs as in production: every process has its own service
# key, every internal call carries a service token and goes over TLS
# (development credentials made once in .data/mesh/credentials).
# Logs go to .data/mesh/<service>.log. Ctrl-C stops everything.
# Every process runs the built output as the image does (`node bin/parley.mjs
# <service>`; the build is brought up to date first, incrementally);
# MESH_FROM=sources runs the TypeScript sources with tsx instead, no build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

FROM=${MESH_FROM:-build}
case $FROM in
  build) npm run --silent build ;;
  sources) ;;
  *) echo "mesh: MESH_FROM must be build or sources (got \"$FROM\")" >&2; exit 2 ;;
esac

ADMIN_URL=$(bash scripts/ensure-postgres.sh)
ETCD_URL=$(bash scripts/ensure-etcd.sh)
LOGS=.data/mesh
mkdir -p "$LOGS"

# One database for the mesh, created on first use.
DB_URL="${ADMIN_URL%/*}/parley_mesh"
node --input-type=module -e "
  import pg from 'pg';
  const c = new pg.Client({ connectionString: process.argv[1] });
  await c.connect();
  const r = await c.query(\"SELECT 1 FROM pg_database WHERE datname = 'parley_mesh'\");
  if (r.rowCount === 0) await c.query('CREATE DATABASE parley_mesh');
  await c.end();
" "$ADMIN_URL"

SECRET_FILE=.data/mesh/secrets.env
if [[ ! -f "$SECRET_FILE" ]]; then
  umask 077
  {
    echo "ACCOUNT_TOKEN_SECRET=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))')"
  } > "$SECRET_FILE"
fi
# shellcheck disable=SC1090
source "$SECRET_FILE"

CREDS=.data/mesh/credentials
[[ -f "$CREDS/trust.json" ]] || node --conditions=@parley/source --import tsx scripts/credentials.ts "$CREDS" >&2

export DATABASE_URL="$DB_URL" ETCD_ENDPOINTS="$ETCD_URL" ETCD_PREFIX=/parley-mesh/ DATA_DIR=.data/mesh
export SERVICE_TRUST_FILE="$CREDS/trust.json" TLS_CERT_FILE="$CREDS/pki/server.pem" TLS_KEY_FILE="$CREDS/pki/server.key" TLS_CA_FILE="$CREDS/pki/ca.pem"
pids=()
# start NAME SERVICE [VAR=value...]: the process NAME runs SERVICE (its principal too) with the variables.
start() {
  local name=$1 service=$2; shift 2
  local run=(node bin/parley.mjs "$service")
  if [[ $FROM == sources ]]; then
    local main=services/$service/src/main.ts
    [[ $service == gateway ]] && main=gateway/src/main.ts
    run=(node --conditions=@parley/source --import tsx "$main")
  fi
  env SERVICE_KEY_FILE="$CREDS/$service.key" "$@" "${run[@]}" > "$LOGS/$name.log" 2>&1 &
  pids+=($!)
  echo "mesh: $name started (pid $!, log $LOGS/$name.log)" >&2
}
stop() {
  echo "mesh: stopping" >&2
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

# MESH_REPLICAS instances of account, idgen, presence, notify and chat (ports 7001, 7011, 7021, ...);
# each idgen leases its own worker id, presence instances share users by owner, notify instances
# lease jobs from the shared database, and every gateway streams to every chat and presence instance.
REPLICAS=${MESH_REPLICAS:-1}
[[ $REPLICAS =~ ^[1-9]$ ]] || { echo "mesh: MESH_REPLICAS must be a whole number from 1 to 9 (got \"$REPLICAS\")" >&2; exit 2; }
for ((i = 0; i < REPLICAS; i++)); do
  suffix=$([[ $i -eq 0 ]] && echo "" || echo "-$((i + 1))")
  start "account$suffix" account ACCOUNT_PORT=$((7001 + 10 * i)) ACCOUNT_TOKEN_SECRET="$ACCOUNT_TOKEN_SECRET"
  start "idgen$suffix" idgen IDGEN_PORT=$((7002 + 10 * i))
done
for ((i = 0; i < REPLICAS; i++)); do
  suffix=$([[ $i -eq 0 ]] && echo "" || echo "-$((i + 1))")
  start "presence$suffix" presence PRESENCE_PORT=$((7005 + 10 * i))
done
for ((i = 0; i < REPLICAS; i++)); do
  suffix=$([[ $i -eq 0 ]] && echo "" || echo "-$((i + 1))")
  start "notify$suffix" notify NOTIFY_PORT=$((7006 + 10 * i)) NOTIFY_RECORDING=true
done
for ((i = 0; i < REPLICAS; i++)); do
  suffix=$([[ $i -eq 0 ]] && echo "" || echo "-$((i + 1))")
  start "chat$suffix" chat CHAT_PORT=$((7003 + 10 * i))
done
start gateway-1 gateway PORT=8080 GATEWAY_INTERNAL_PORT=7104 GATEWAY_ID=gateway-1 ZONE=zone-a
start gateway-2 gateway PORT=8081 GATEWAY_INTERNAL_PORT=7204 GATEWAY_ID=gateway-2 ZONE=zone-b

for port in 8080 8081; do
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
    sleep 0.5
  done
done
echo "mesh: gateways on http://127.0.0.1:8080 (zone-a) and http://127.0.0.1:8081 (zone-b); etcd $ETCD_URL; Postgres database parley_mesh" >&2
echo "mesh: try  curl -s -H 'content-type: application/json' -d '{\"zone\":\"zone-b\"}' http://127.0.0.1:8080/parley.discovery.v1.DiscoveryService/PickGateway" >&2
echo "mesh: internal services speak TLS with service tokens; an operator's token: npm run -s service-token -- --key $CREDS/operator_admin.key --as operator:admin --audience idgen" >&2
wait -n "${pids[@]}" || true
echo "mesh: a process exited; see $LOGS" >&2
