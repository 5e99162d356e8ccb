#!/usr/bin/env bash
# Informer e2e (a): objects created, updated and deleted with kubectl reach a
# bus subscriber (kubus-bus-tail) in order, with gap-free sequence numbers,
# and the subscriber's rebuilt cache equals the API server's state.
. "$(dirname "$0")/lib.sh"

# --- informer test helpers (kept inline: every tests/e2e/*.sh is run as a test) ---
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
# --- end of helpers ---

kns_new inf-events
start_broker
start_informer --resources=replicasets,namespaces
start_tail tail --resources=replicasets --cache-dump="$D/dump.txt"
wait_until 20 'grep -q "\"resync\":\"end\"" "$D/tail.out"' "bus-tail snapshot"

make_rs alpha beta
kubectl -n "$NS" label rs alpha step=two >/dev/null
kubectl -n "$NS" delete rs beta --wait=true >/dev/null
wait_until 20 'tail_events tail | grep -q "^DELETED beta$"' "DELETED beta on the bus"

# Order: each object's events in the order the API server applied them.
ev=$(tail_events tail)
info "events seen: $(echo $ev)"
order_ok() { # order_ok A B: line A occurs, and before line B
  local a b
  a=$(grep -n -x "$1" <<<"$ev" | head -n1 | cut -d: -f1)
  b=$(grep -n -x "$2" <<<"$ev" | tail -n1 | cut -d: -f1)
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
order_ok "ADDED alpha" "MODIFIED alpha" || fail "alpha: want ADDED before MODIFIED, got: $ev"
order_ok "ADDED beta" "DELETED beta" || fail "beta: want ADDED before DELETED, got: $ev"
[ "$(grep -c -x "ADDED alpha" <<<"$ev")" = 1 ] || fail "alpha ADDED more than once: $ev"

# Sequences of the live replicasets stream: consecutive, one epoch.
jq -r 'select(.type != null and .type != "SNAPSHOT" and .resource == "replicasets") | .seq' "$D/tail.out" >"$D/seqs"
awk 'NR > 1 && $1 != prev + 1 { print "gap after " prev ": " $1; bad = 1 } { prev = $1 } END { exit bad }' "$D/seqs" ||
  fail "sequence gap in the live stream"
[ "$(jq -r 'select(.epoch != null) | .epoch' "$D/tail.out" | sort -u | wc -l)" = 1 ] || fail "more than one epoch"

# The label change is in the object the subscriber got (jq on the API side).
want_rv=$(kubectl -n "$NS" get rs alpha -o jsonpath='{.metadata.resourceVersion}')
alpha_rv() { jq -r --arg ns "$NS" 'select(.ns == $ns and .name == "alpha") | .rv' "$D/tail.out" | tail -n1; }
wait_until 10 '[ "$(alpha_rv)" = "$want_rv" ]' "the subscriber has alpha at resourceVersion $want_rv"
stop_pid "$TAIL_PID"
diff <(kube_rs_state) <(dump_rs_state "$D/dump.txt") >&2 || fail "subscriber cache differs from the API server"
[ "$(jq -r '[.bad_input[]] | add' "$D/stats.json")" = 0 ] || fail "informer counted bad input"
pass "create/update/delete reached the subscriber in order; its cache matches the API server"
