#!/usr/bin/env bash
# `make run`: bring up the local control plane (if it is not up yet) and run
# kubus-controller-manager against it in the foreground. Ctrl-C stops kubus
# and then the cluster this script started, also when the output is piped
# (`make run | tee run.log`): the reader of the pipe dies with the same
# Ctrl-C, and the teardown must neither be killed by SIGPIPE nor stop at a
# failed write, or etcd and the API server would be left running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export KUBUS_CLUSTER_DIR=${KUBUS_CLUSTER_DIR:-$root/build/cluster}
bin=${KUBUS_BIN:-$root/build/bin}

# say MSG...: to stderr, never failing (the terminal or pipe may be gone).
say() { printf '%s\n' "$*" >&2 2>/dev/null || true; }

started_cluster=0
kubus_pid=
cleanup() {
  trap - INT TERM PIPE HUP EXIT
  trap '' INT TERM PIPE HUP # a second Ctrl-C must not interrupt the teardown
  if [ -n "$kubus_pid" ]; then
    kill -TERM "$kubus_pid" 2>/dev/null || true
    wait "$kubus_pid" 2>/dev/null || true
  fi
  if [ "$started_cluster" = 1 ]; then
    # Its output goes to a file first: writing into a dead pipe must not stop it.
    local log="$KUBUS_CLUSTER_DIR/run-down.log"
    bash tests/cluster/down.sh >"$log" 2>&1 </dev/null || say "run: tests/cluster/down.sh failed (see $log)"
    cat "$log" >&2 2>/dev/null || true
  fi
}
on_signal() { # SIGNAL-NUMBER: tear down, then exit as killed by it
  cleanup
  exit $((128 + $1))
}
trap 'on_signal 1' HUP
trap 'on_signal 2' INT
trap 'on_signal 13' PIPE
trap 'on_signal 15' TERM
trap cleanup EXIT

if [ -f "$KUBUS_CLUSTER_DIR/kubeconfig" ] && bash tests/cluster/up.sh --reuse >/dev/null 2>&1; then
  say "run: reusing the cluster in $KUBUS_CLUSTER_DIR"
else
  # Set before it starts: a Ctrl-C during the start-up still tears it down.
  started_cluster=1
  bash tests/cluster/up.sh
fi

kubeconfig=$KUBUS_CLUSTER_DIR/kubeconfig
# shellcheck disable=SC1091
source tests/cluster/env.sh >/dev/null

stops="kubus"
[ "$started_cluster" = 1 ] && stops="kubus and the cluster"
cat <<MSG

  kubus is starting against the local cluster. In another shell:

    export KUBECONFIG=$kubeconfig PATH=$KUBUS_K8S_BIN:\$PATH
    kubectl apply -f examples/myreplicaset.yaml

  The tutorial's other manifests are in examples/ (see examples/README.md).
  Ctrl-C here stops $stops.

MSG
"$bin/kubus-controller-manager" --kubeconfig="$kubeconfig" \
  --bus-dir="$KUBUS_CLUSTER_DIR/bus" "$@" &
kubus_pid=$!
# A trapped signal interrupts `wait`; the trap then tears everything down.
wait "$kubus_pid"
