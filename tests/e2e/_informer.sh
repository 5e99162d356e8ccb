# shellcheck shell=bash
# Sourced by tests/e2e/informer_*.sh (after lib.sh): runs kubus-broker,
# kubus-informer and kubus-bus-tail directly, without the supervisor, with
# logs in a private dir that is removed on exit (KUBUS_KEEP_LOGS=1 keeps it).
# Files named _*.sh are helpers, not tests (tests/CMakeLists.txt).
D=$(mktemp -d /tmp/kubus-inf.XXXXXX)
BUS="$D/bus"
PIDS=()
# spawn NAME CMD...: run CMD in the background, stdout to $D/NAME.out, stderr to $D/NAME.log.
spawn() {
  local name=$1
  shift
  "$@" >>"$D/$name.out" 2>>"$D/$name.log" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
stop_pid() {
  local p=$1 i
  kill -CONT "$p" 2>/dev/null || true
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
informer_cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  if [ "${KUBUS_KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $D" >&2; else rm -rf "$D"; fi
}
on_exit informer_cleanup
# On failure show the processes' logs before lib.sh's report.
eval "_lib_fail() $(declare -f fail | tail -n +2)"
fail() {
  local f
  for f in "$D"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }; done
  _lib_fail "$@"
}
start_broker() { spawn broker "$KUBUS_BIN/kubus-broker" --bus-dir="$BUS"; BROKER_PID=$LAST_PID; }
# start_informer [flags...]
start_informer() {
  rm -f "$D/stats.json"
  spawn informer "$KUBUS_BIN/kubus-informer" --bus-dir="$BUS" --kubeconfig="$KUBECONFIG" \
    --stats-file="$D/stats.json" "$@"
  INFORMER_PID=$LAST_PID
  wait_until 30 'kill -0 "$INFORMER_PID" 2>/dev/null || fail "kubus-informer exited"; [ "$(stat_get .ready)" = true ]' \
    "informer ready (stats file)"
}
# start_tail NAME [flags...]
start_tail() {
  local name=$1
  shift
  spawn "$name" "$KUBUS_BIN/kubus-bus-tail" --bus-dir="$BUS" --name="$name" "$@"
  TAIL_PID=$LAST_PID
}
stat_get() { jq -r "$1" "$D/stats.json" 2>/dev/null || true; }
api_requests() { jq -r '.requests.list + .requests.watch' "$D/stats.json"; }
# The API server's replicasets of $NS as a bus-tail cache dump shows them.
kube_rs_state() {
  kubectl get rs -n "$NS" -o json |
    jq -r '.items[] | "replicasets \(.metadata.namespace)/\(.metadata.name) \(.metadata.resourceVersion)"' | sort
}
dump_rs_state() { grep "^replicasets $NS/" "$1" | sort || true; }
# Events of $NS in a bus-tail output: "TYPE NAME" lines in delivery order.
tail_events() { jq -r --arg ns "$NS" 'select(.type != null and .ns == $ns) | "\(.type) \(.name)"' "$D/$1.out"; }
make_rs() { # make_rs NAME...: ReplicaSets with 0 replicas (no pods, no side effects)
  local n
  for n in "$@"; do
    cat <<YAML
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: $n, namespace: $NS, labels: {app: $n}}
spec:
  replicas: 0
  selector: {matchLabels: {app: $n}}
  template:
    metadata: {labels: {app: $n}}
    spec: {containers: [{name: c, image: registry.k8s.io/pause:3.9}]}
YAML
  done | kubectl apply -f - >/dev/null
}
