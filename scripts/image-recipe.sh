#!/usr/bin/env bash
# The image recipe, exercised without a Docker engine (none runs on the machines this is built
# on; CI runs this after the tests). It reads the Dockerfile and replays each stage's build
# steps (WORKDIR, ENV, COPY, RUN) in a temporary folder that stands in for the stage's root
# filesystem, with the .dockerignore'd build context, then starts the runtime stage's result as
# the image would start it (its ENTRYPOINT and CMD, its ENV, its USER) and checks that:
#   - it holds no dev dependency (TypeScript, tsx, Biome, buf, the pinned Node) and no
#     TypeScript source, only production dependencies and the built output;
#   - it becomes healthy (GET /healthz on the public port) and serves a sign-up and the web
#     app's page, script and stylesheet (/app/), run by plain
#     Node, as the non-root USER (when this script runs as root), with every file of the stage
#     read-only and DATA_DIR in a separate writable folder standing in for the volume;
#   - it wrote nothing outside DATA_DIR (no file of its user in the world-writable folders) and
#     stops with code 0 on SIGTERM;
#   - the launcher without a process name exits with code 2.
# What it cannot check: the base images themselves. `FROM node:24*` stands for a root holding
# the project's pinned Node 24 (node_modules/.bin/node, so run `npm ci` first) as
# /usr/local/bin/node, and the machine's npm, run on that Node; RUN lines run with /bin/sh on
# this machine, in the stage's WORKDIR, which is why they may use relative paths only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
export PATH="$REPO/node_modules/.bin:$PATH"

say() { echo "image-recipe: $*" >&2; }
die() {
  say "ERROR: $*"
  exit 1
}

PINNED_NODE=$(readlink -f node_modules/.bin/node 2> /dev/null || true)
[[ -x $PINNED_NODE ]] || die "no pinned Node at node_modules/.bin/node: run npm ci first"
NPM=$(command -v npm) || die "npm not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/parley-image.XXXXXX")
chmod 755 "$WORK"
APP_PID=""
cleanup() {
  [[ -n $APP_PID ]] && kill -KILL "$APP_PID" 2> /dev/null || true
  chmod -R u+w "$WORK" 2> /dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The build context: this folder less the .dockerignore patterns (tar's anchored patterns for
# the ones Docker anchors at the context root, unanchored for **/ ones).
context_excludes=()
while IFS= read -r pattern || [[ -n $pattern ]]; do
  pattern=${pattern%%#*}
  pattern=${pattern//[[:space:]]/}
  [[ -z $pattern ]] && continue
  [[ $pattern == '!'* ]] && die ".dockerignore: exceptions (\"$pattern\") are not supported by this recipe"
  if [[ $pattern == '**/'* ]]; then
    context_excludes+=(--no-anchored "--exclude=${pattern#'**/'}")
  else
    context_excludes+=(--anchored "--exclude=./$pattern")
  fi
done < .dockerignore
mkdir "$WORK/context"
tar -C "$REPO" "${context_excludes[@]}" -cf - . | tar -C "$WORK/context" -xf -
say "build context: $(du -sh "$WORK/context" | cut -f1) (.dockerignore applied)"

# The environment of RUN steps: what a Docker build has (no npm or Node variables of the shell
# that started this), plus what reaching the npm registry from this machine needs.
run_env() {
  local name
  for name in HOME TMPDIR LANG TERM NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [[ -n ${!name:-} ]] && printf '%s=%s\0' "$name" "${!name}"
  done
  env -0 | grep -z '^NPM_CONFIG_' || true
}

stage="" root="" workdir="/" user="" entrypoint=() cmd=() exposed=() volumes=() stage_env=()
declare -A stage_roots=()

# A path of the stage being built, as a path on this machine.
in_stage() {
  local path=$1
  [[ $path == /* ]] || path="${workdir%/}/$path"
  echo "$root$path"
}

json_array() { node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$1"; }

from() {
  local image=$1 as=${2:-} name=${3:-}
  [[ ${as^^} == AS && -n $name ]] || die "FROM $image: name the stage (FROM <image> AS <name>)"
  [[ $image == node:24* ]] || die "FROM $image: this recipe stands in only for node:24 images"
  stage=$name root="$WORK/stages/$name" workdir="/" user="" stage_env=()
  stage_roots[$name]=$root
  mkdir -p "$root/usr/local/bin"
  cp "$PINNED_NODE" "$root/usr/local/bin/node"
  ln -s "$NPM" "$root/usr/local/bin/npm"
}

copy() {
  local from_root="$WORK/context" chown="" args=("$@")
  while [[ ${args[0]} == --* ]]; do
    case ${args[0]} in
      --from=*) from_root=${stage_roots[${args[0]#--from=}]:-} && [[ -n $from_root ]] || die "COPY ${args[0]}: no such stage before this one" ;;
      --chown=*) chown=${args[0]#--chown=} ;;
      *) die "COPY ${args[0]}: option not supported by this recipe" ;;
    esac
    args=("${args[@]:1}")
  done
  ((${#args[@]} == 2)) || die "COPY ${args[*]}: one source and one destination only"
  local src=$from_root/${args[0]} dest_arg=${args[1]}
  [[ ${args[0]} != *[*?[]* ]] || die "COPY ${args[0]}: globs are not supported by this recipe"
  local dest
  dest=$(in_stage "$dest_arg")
  if [[ -d $src ]]; then
    mkdir -p "$dest"
    cp -a "$src/." "$dest/"
  elif [[ -e $src ]]; then
    [[ $dest_arg == */ ]] && mkdir -p "$dest" && dest="$dest/$(basename "$src")"
    mkdir -p "$(dirname "$dest")"
    cp -a "$src" "$dest"
  else
    die "COPY ${args[0]}: not found"
  fi
  if [[ -n $chown ]]; then
    if ((EUID == 0)); then chown -R "$chown" "$dest"; else say "not root: COPY --chown=$chown not applied"; fi
  fi
}

run() {
  local command=$1
  # Outside a container "/" is this machine's: a RUN line may only use paths under WORKDIR.
  [[ ! $command =~ (^|[[:space:]=:\'\"])/ ]] || die "RUN $command: use paths relative to WORKDIR (this recipe runs RUN lines outside a container)"
  (
    cd "$root$workdir"
    mapfile -d '' -t base < <(run_env)
    env -i "${base[@]}" "${stage_env[@]}" PATH="$root/usr/local/bin:/usr/local/bin:/usr/bin:/bin" sh -c "$command" < /dev/null
  ) || die "[$stage] RUN $command: failed"
}

exec 3< Dockerfile
while IFS= read -r -u 3 line || [[ -n $line ]]; do
  line=${line#"${line%%[![:space:]]*}"}
  [[ -z $line || $line == '#'* ]] && continue
  [[ $line != *'\' ]] || die "Dockerfile: continuation lines are not supported by this recipe: $line"
  instruction=${line%%[[:space:]]*}
  args=${line#"$instruction"}
  args=${args#"${args%%[![:space:]]*}"}
  [[ -n $stage || ${instruction^^} == FROM ]] || die "Dockerfile: $instruction before the first FROM"
  say "[${stage:-}] $instruction $args"
  case ${instruction^^} in
    FROM)
      read -r -a words <<< "$args"
      from "${words[@]}"
      ;;
    WORKDIR)
      [[ $args == /* ]] || args="${workdir%/}/$args"
      workdir=$args
      mkdir -p "$root$workdir"
      ;;
    ENV)
      read -r -a words <<< "$args"
      for word in "${words[@]}"; do
        [[ $word =~ ^[A-Za-z_][A-Za-z0-9_]*=[^\"\'\$]*$ ]] || die "ENV $word: only unquoted key=value pairs are supported by this recipe"
        stage_env+=("$word")
      done
      ;;
    COPY)
      read -r -a words <<< "$args"
      copy "${words[@]}"
      ;;
    RUN) run "$args" ;;
    USER) user=$args ;;
    EXPOSE) read -r -a exposed <<< "$args" ;;
    VOLUME) if [[ $args == '['* ]]; then mapfile -t volumes < <(json_array "$args"); else read -r -a volumes <<< "$args"; fi ;;
    ENTRYPOINT) mapfile -t entrypoint < <(json_array "$args") ;;
    CMD) mapfile -t cmd < <(json_array "$args") ;;
    *) die "Dockerfile: $instruction is not supported by this recipe" ;;
  esac
done
exec 3<&-

# The runtime stage is the last one.
app=$root$workdir
say "runtime stage \"$stage\": $(du -sh --exclude=usr "$root" | cut -f1) besides Node"
[[ $user =~ ^([1-9][0-9]*)(:([0-9]+))?$ ]] || die "USER \"$user\": must be a numeric, non-root UID[:GID]"
uid=${BASH_REMATCH[1]} gid=${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}
data_dir=""
for pair in "${stage_env[@]}"; do [[ $pair == DATA_DIR=* ]] && data_dir=${pair#DATA_DIR=}; done
[[ -n $data_dir && " ${volumes[*]} " == *" $data_dir "* ]] || die "DATA_DIR (\"$data_dir\") must be set and be a VOLUME (${volumes[*]:-none})"
[[ " ${exposed[*]} " == *" 8080 "* ]] || die "EXPOSE must include the public port 8080"

# Production dependencies and built output only: no package that only a devDependency brings
# (the root's or a workspace's, per this checkout's npm ls), the named tools first of all.
dev_only=$(node --input-type=module - << 'EOF'
import { execFileSync } from "node:child_process";
import { globSync, readFileSync } from "node:fs";
const manifests = ["package.json", ...globSync(["packages/*/package.json", "services/*/package.json", "gateway/package.json", "apps/*/package.json"])];
const dev = new Set(manifests.flatMap((m) => Object.keys(JSON.parse(readFileSync(m, "utf8")).devDependencies ?? {})));
const prod = new Set();
// The JSON tree has no cycles: a deduplicated package appears again without its dependencies.
const walk = (deps) => {
  for (const [name, dep] of Object.entries(deps ?? {})) {
    prod.add(name);
    walk(dep.dependencies);
  }
};
walk(JSON.parse(execFileSync("npm", ["ls", "--omit=dev", "--all", "--json"], { encoding: "utf8", maxBuffer: 1 << 26 })).dependencies);
const only = [...dev].filter((name) => !prod.has(name) && !name.startsWith("@parley/"));
for (const tool of ["typescript", "tsx", "@biomejs/biome", "@bufbuild/buf", "node"]) if (!only.includes(tool)) throw new Error(`${tool} is not dev-only here`);
console.log(only.join("\n"));
EOF
) || die "could not list the dev-only dependencies (npm ls)"
for dev in $dev_only .bin/node .bin/tsc .bin/tsx .bin/biome; do
  [[ ! -e $app/node_modules/$dev ]] || die "the runtime stage holds the dev dependency $dev"
done
say "dev-only dependencies absent: $(echo $dev_only)"
sources=$(find "$app" -path "$app/node_modules" -prune -o -name '*.ts' ! -name '*.d.ts' -print | head -5)
[[ -z $sources ]] || die "the runtime stage holds TypeScript sources: $sources"
[[ -e $app/node_modules/@parley/runtime/dist/index.js ]] || die "the runtime stage lacks the built @parley/runtime"
dir=$root
while [[ $dir != / ]]; do
  dir=$(dirname "$dir")
  [[ ! -e $dir/node_modules ]] || die "$dir/node_modules would be visible to the runtime stage's module resolution"
done
say "runtime stage: no dev dependency, no TypeScript source"

# Start it as the image starts: read-only files, the volume a separate writable folder (a
# copy of the stage's DATA_DIR, as a new named volume starts), as USER when this runs as root.
volume="$WORK/volume"
cp -a "$root$data_dir" "$volume"
chmod -R a-w "$root"
as_user=()
if ((EUID == 0)); then
  [[ $(stat -c %u:%g "$volume") == "$uid:$gid" ]] || die "DATA_DIR $data_dir is not owned by USER $uid:$gid in the image"
  as_user=(setpriv "--reuid=$uid" "--regid=$gid" --clear-groups --)
else
  say "not root: running as $(id -u) rather than USER $uid"
  uid=$(id -u)
fi
runtime_env=(env -i PATH="$root/usr/local/bin:/usr/local/bin:/usr/bin:/bin" HOME=/ "${stage_env[@]}" DATA_DIR="$volume" PORT=0 LOG_LEVEL=info)

usage_code=0
(cd "$app" && "${as_user[@]}" "${runtime_env[@]}" "${entrypoint[@]}" > /dev/null 2>&1) || usage_code=$?
((usage_code == 2)) || die "${entrypoint[*]} without a process name exited with $usage_code, not 2"

marker="$WORK/started"
touch "$marker"
log="$WORK/app.log"
started_ms=$(date +%s%3N)
(cd "$app" && exec "${as_user[@]}" "${runtime_env[@]}" "${entrypoint[@]}" "${cmd[@]}") > "$log" 2>&1 &
APP_PID=$!
api=""
for _ in $(seq 1 600); do
  api=$(grep -o '"api":"[^"]*"' "$log" | head -1 | cut -d'"' -f4 || true)
  [[ -n $api ]] && break
  kill -0 "$APP_PID" 2> /dev/null || die "$(tail -20 "$log")"$'\n'"the runtime stage exited before it ran"
  sleep 0.05
done
[[ -n $api ]] || die "no \"parley is running\" line within 30 s:"$'\n'"$(tail -20 "$log")"
cat > "$WORK/serves.mjs" << 'EOF'
// Waits for /healthz to answer 200, prints the milliseconds since the start, then signs up a user.
const [api, startedMs] = process.argv.slice(2);
for (let i = 0; ; i++) {
  const status = await fetch(`${api}/healthz`).then((r) => r.status, () => 0);
  if (status === 200) break;
  if (i === 200) throw new Error(`/healthz answered ${status}`);
  await new Promise((r) => setTimeout(r, 50));
}
console.log(Date.now() - Number(startedMs));
const res = await fetch(`${api}/parley.account.v1.AccountService/SignUp`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ username: "image_recipe", password: "correct horse battery" }),
});
if (res.status !== 200) throw new Error(`SignUp answered ${res.status}: ${await res.text()}`);
// The web app's bundle made it into the image, and the gateway serves it (GATEWAY_WEB_APP defaults to on).
for (const file of ["", "app.js", "style.css"]) {
  const page = await fetch(`${api}/app/${file}`);
  if (page.status !== 200) throw new Error(`/app/${file} answered ${page.status}: ${await page.text()}`);
}
EOF
healthy_ms=$(node "$WORK/serves.mjs" "$api" "$started_ms") || die "the runtime stage did not serve:"$'\n'"$(tail -20 "$log")"
rss=$(awk '/^VmRSS/ {print int($2 / 1024) " MiB"}' "/proc/$APP_PID/status")
say "healthy $healthy_ms ms after the start, and served a sign-up and the web app, at $api as uid $uid (RSS $rss); DATA_DIR holds: $(ls "$volume" | tr '\n' ' ')"

kill -TERM "$APP_PID"
code=0
wait "$APP_PID" || code=$?
APP_PID=""
((code == 0)) || die "exited with $code on SIGTERM:"$'\n'"$(tail -20 "$log")"
if [[ $uid != "$(id -u)" ]]; then
  # Its own UID owns nothing but what it wrote; outside the volume it could only write into the
  # world-writable folders (everything else is read-only to it, its stage included).
  # shellcheck disable=SC2046
  written=$(find /tmp /var/tmp /dev/shm $( [[ -d /run/lock ]] && echo /run/lock) -path "$volume" -prune -o -user "$uid" -newer "$marker" -print 2> /dev/null | head -5)
  [[ -z $written ]] || die "the runtime stage wrote outside DATA_DIR: $written"
  say "nothing written outside DATA_DIR"
fi
say "OK: the Dockerfile's build steps ran, and its runtime stage serves with production dependencies only"
