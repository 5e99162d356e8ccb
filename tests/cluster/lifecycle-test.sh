#!/usr/bin/env bash
# Starts and stops a private reference cluster (own temp dir, own free ports)
# and checks that: it comes up; a second up.sh on the same dir is refused;
# up.sh --reuse accepts it; down.sh leaves no process behind (none of its
# recorded pids, nothing with the dir on its command line); it restarts on the
# same dir with KUBUS_UPSTREAM=all, where the upstream ReplicaSet controller
# makes pods that kwok runs.
# Runs next to the shared suite cluster without touching it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir=$(mktemp -d /tmp/kubus-lifecycle.XXXXXX)
export KUBUS_CLUSTER_DIR="$dir"
unset KUBUS_UPSTREAM
. "$here/common.sh" # cl_wait, KUBUS_K8S_BIN

fail() { echo "FAIL: cluster lifecycle: $*" >&2; exit 1; }
pass() { echo "PASS: cluster lifecycle: $*"; }
cleanup() {
  local rc=$?
  bash "$here/down.sh" >/dev/null 2>&1 || true
  if ((rc == 0)); then rm -rf "$dir"; else echo "state kept in $dir" >&2; fi
}
trap cleanup EXIT

bash "$here/up.sh" || fail "up.sh failed (logs in $dir/logs)"
pass "up"
pids=()
for f in "$dir"/run/*.pid; do pids+=("$(cat "$f")"); done
((${#pids[@]} == 5)) || fail "expected 5 pid files, found ${#pids[@]}"
for p in "${pids[@]}"; do
  [ -d "/proc/$p" ] || fail "pid $p from $dir/run is not running"
done
# its own ports, not the suite cluster's
port=$(sed -n 's/^apiserver=//p' "$dir/run/ports.env")
grep -q "127.0.0.1:$port" "$dir/kubeconfig" || fail "kubeconfig does not point at port $port"

if out=$(bash "$here/up.sh" 2>&1); then
  fail "a second up.sh on the same dir succeeded: $out"
fi
grep -q "already running" <<<"$out" || fail "second up.sh failed without the expected message: $out"
for p in "${pids[@]}"; do
  [ -d "/proc/$p" ] || fail "refused second up.sh disturbed pid $p"
done
pass "a second up.sh is refused: $(grep -m1 'already running' <<<"$out" | cut -c1-100)..."

bash "$here/up.sh" --reuse || fail "up.sh --reuse on a running cluster failed"
pass "up.sh --reuse accepts the running cluster"

bash "$here/down.sh" || fail "down.sh failed"
sleep 0.5
for p in "${pids[@]}"; do
  if [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]; then
    fail "pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-80)) survived down.sh"
  fi
done
left=""
for p in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
  [[ "$cmd" == *"$dir"* ]] && left+="${p#/proc/}: ${cmd:0:100}"$'\n'
done
[ -z "$left" ] || fail "processes with $dir on their command line survived down.sh: $left"
pass "down.sh stopped all ${#pids[@]} processes; none mentions $dir"

bash "$here/down.sh" >/dev/null || fail "down.sh on a stopped cluster failed"
pass "down.sh on a stopped cluster is a no-op"

# The yardstick mode: a restart on the same dir with every upstream controller
# on; the upstream ReplicaSet controller then creates pods that kwok runs.
KUBUS_UPSTREAM=all bash "$here/up.sh" >/dev/null 2>&1 || fail "KUBUS_UPSTREAM=all up.sh failed (logs in $dir/logs)"
[ "$(cat "$dir/run/controllers")" = all ] || fail "run/controllers is not 'all'"
kc() { "$KUBUS_K8S_BIN/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }
kc apply -f - >/dev/null <<'YAML' || fail "could not create the ReplicaSet"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec: {containers: [{name: c, image: nginx:1.25}]}
YAML
ready_replicas() { [ "$(kc get rs rs -n default -o jsonpath='{.status.readyReplicas}')" = 2 ]; }
cl_wait 60 "2 ready replicas from the upstream ReplicaSet controller" ready_replicas ||
  fail "with KUBUS_UPSTREAM=all the ReplicaSet did not get 2 ready pods"
pass "KUBUS_UPSTREAM=all: the upstream ReplicaSet controller runs (2/2 pods ready)"
bash "$here/down.sh" >/dev/null || fail "down.sh after KUBUS_UPSTREAM=all failed"
