#!/usr/bin/env bash
# `make run`: bring up the local control plane (if it is not up yet) and run
# kubus-controller-manager against it in the foreground. Ctrl-C stops kubus
# and then the cluster this script started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export KUBUS_CLUSTER_DIR=${KUBUS_CLUSTER_DIR:-$root/build/cluster}
bin=${KUBUS_BIN:-$root/build/bin}

started_cluster=0
if [ -f "$KUBUS_CLUSTER_DIR/kubeconfig" ] && bash tests/cluster/up.sh --reuse >/dev/null 2>&1; then
  echo "run: reusing the cluster in $KUBUS_CLUSTER_DIR"
else
  bash tests/cluster/up.sh
  started_cluster=1
fi

kubeconfig=$KUBUS_CLUSTER_DIR/kubeconfig
# shellcheck disable=SC1091
source tests/cluster/env.sh >/dev/null
cleanup() {
  trap - INT TERM EXIT
  [ -n "${kubus_pid:-}" ] && kill -TERM "$kubus_pid" 2>/dev/null && wait "$kubus_pid" 2>/dev/null || true
  if [ "$started_cluster" = 1 ]; then bash tests/cluster/down.sh || true; fi
}
trap cleanup INT TERM EXIT

stops="kubus"
[ "$started_cluster" = 1 ] && stops="kubus and the cluster"
cat <<MSG

  kubus is starting against the local cluster. In another shell:

    export KUBECONFIG=$kubeconfig PATH=$KUBUS_K8S_BIN:\$PATH
    kubectl apply -f ../shared/scenarios/myreplicaset.yaml

  Ctrl-C here stops $stops.

MSG
"$bin/kubus-controller-manager" --kubeconfig="$kubeconfig" \
  --bus-dir="$KUBUS_CLUSTER_DIR/bus" "$@" &
kubus_pid=$!
wait "$kubus_pid"
