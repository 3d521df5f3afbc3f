#!/usr/bin/env bash
# The Helm chart's check, part of `npm test` (needs no cluster): `helm lint --strict` and
# `helm template` with the default values, with values-production.yaml and with every option
# on (helm/parley/ci/), then every rendered object checked against the Kubernetes API schema
# (scripts/helm/kube-schema.ts: known kind, types, required fields, enums, formats, no unknown
# fields). helm comes from scripts/helm/install-helm.sh (cached in .tools/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

HELM=$(bash scripts/helm/install-helm.sh)
# helm keeps caches and settings under these; keep them in the work tree, not in $HOME.
export HELM_CACHE_HOME="$PWD/.tools/helm-home/cache" HELM_CONFIG_HOME="$PWD/.tools/helm-home/config" HELM_DATA_HOME="$PWD/.tools/helm-home/data"
CHART=helm/parley
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

render() {
  local name=$1
  shift
  echo "check-helm: lint and template ($name)" >&2
  "$HELM" lint --strict --quiet "$CHART" "$@" >&2
  "$HELM" template parley "$CHART" --namespace parley "$@" > "$out/$name.yaml"
}
render defaults
render production -f "$CHART/values-production.yaml"
render everything-on -f "$CHART/ci/everything-on-values.yaml"

node --import tsx scripts/helm/validate-manifests.ts "$out"/*.yaml
