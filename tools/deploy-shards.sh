#!/usr/bin/env bash
# deploy-shards.sh - writes deploy/shards/<count>/: the kustomizations of
# <count> namespace shards, each deploy/shard/ named kubus-shard-<i>-of-<count>
# with its index and count (a ConfigMap the Deployment's args read).
#
# Owns: the layout of deploy/shards/. The shard count is then the one line
# "- shards/<count>" in deploy/kustomization.yaml.
#
# Usage: tools/deploy-shards.sh COUNT [DEPLOY_DIR]   (default deploy/)
# Exit: 0 written, 2 bad COUNT.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-}
dir=${2:-$root/deploy}
if ! [[ $count =~ ^[1-9][0-9]{0,3}$ ]]; then
  echo "deploy-shards: COUNT must be a shard count from 1 to 9999, got \"$count\"" >&2
  exit 2
fi
out=$dir/shards/$count
rm -rf "$out"
mkdir -p "$out"
{
  echo "# $count namespace shards (tools/deploy-shards.sh $count writes this directory)."
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  for ((i = 0; i < count; i++)); do echo "- \"$i\""; done
} >"$out/kustomization.yaml"
for ((i = 0; i < count; i++)); do
  mkdir -p "$out/$i"
  cat >"$out/$i/kustomization.yaml" <<YAML
# Shard $i of $count (tools/deploy-shards.sh $count writes this file).
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../../shard
nameSuffix: -$i-of-$count
labels:
- pairs:
    kubus.io/shard: "$i-of-$count"
  includeSelectors: true
configMapGenerator:
- name: kubus-shard
  literals:
  - KUBUS_SHARD_INDEX=$i
  - KUBUS_SHARD_COUNT=$count
YAML
done
echo "deploy-shards: wrote $out ($count shards); select it in $dir/kustomization.yaml: - shards/$count"
