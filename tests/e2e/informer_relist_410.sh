#!/usr/bin/env bash
# Informer e2e (d): relist after 410 Gone publishes the difference against
# the cache, in particular DELETED for objects that vanished meanwhile.
#
# How the 410 is forced: --test-stale-rv-after=T makes the informer, T s after
# start, drop its replicasets watch (unread) and re-watch from
# resourceVersion "1", which is too old: 410, relist. (A young apiserver that
# still has that history replays it instead; the informer then refuses the
# replay and relists just the same.) While the informer is SIGSTOPped we
# delete, change and create ReplicaSets; it is continued after T, so the hook
# runs before it reads the watch data that queued up while it was stopped:
# only the relist diff can tell the subscriber about those changes.
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

T=15
kns_new inf-410
start_broker
t0=$(date +%s)
start_informer --resources=replicasets --test-stale-rv-after=$T --test-stale-rv-resource=replicasets
start_tail tail --resources=replicasets --cache-dump="$D/dump.txt"
wait_until 20 'grep -q "\"resync\":\"end\"" "$D/tail.out"' "bus-tail snapshot"
make_rs a1 a2 a3 a4
wait_until 20 '[ "$(tail_events tail | grep -c "^ADDED ")" = 4 ]' "the subscriber saw the four ReplicaSets"
(( $(date +%s) - t0 < T - 5 )) || fail "set-up took too long for the ${T} s hook (raise T)"

kill -STOP "$INFORMER_PID"
kubectl -n "$NS" delete rs a1 a2 --wait=true >/dev/null
kubectl -n "$NS" label rs a3 while=stopped >/dev/null
make_rs a5
relists_before=$(stat_get .relists.replicasets)
while (( $(date +%s) - t0 <= T + 1 )); do sleep 0.2; done
kill -CONT "$INFORMER_PID"

wait_until 30 '[ "$(stat_get .relists.replicasets)" -gt "$relists_before" ]' "a relist after the stale watch"
wait_until 20 'tail_events tail | grep -q "^DELETED a2$" && tail_events tail | grep -q "^DELETED a1$"'   "DELETED a1 and a2 on the bus"
wait_until 20 'tail_events tail | grep -q "^ADDED a5$"' "ADDED a5 on the bus"
wait_until 20 'tail_events tail | grep -q "^MODIFIED a3$"' "MODIFIED a3 (labelled while stopped) on the bus"
[ "$(stat_get .relist_deleted.replicasets)" -ge 2 ] || fail "the relist diff published fewer than 2 deletions"
grep -q "relisting" "$D/informer.log" || fail "informer did not relist"

stop_pid "$TAIL_PID"
diff <(kube_rs_state) <(dump_rs_state "$D/dump.txt") >&2 || fail "subscriber cache differs from the API server"
jq -r 'select(.type != null and .type != "SNAPSHOT") | .seq' "$D/tail.out" |
  awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }' || fail "sequence gap on the bus"
pass "410 -> relist -> DELETED for vanished objects (relist_deleted=$(stat_get .relist_deleted.replicasets))"
