#!/usr/bin/env bash
# Informer e2e: sharding. Two informers, --shard-count=2 with index 0 and 1,
# each on its own bus: every namespaced object is published by exactly one of
# them (fnv1a32(namespace) % 2), cluster-scoped objects by both.
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

kns_new inf-shard-a
NS_A=$NS
kns_new inf-shard-b
NS_B=$NS
kns_new inf-shard-c
NS_C=$NS
for ns in "$NS_A" "$NS_B" "$NS_C"; do NS=$ns make_rs "rs-$ns"; done

for i in 0 1; do
  spawn "broker$i" "$KUBUS_BIN/kubus-broker" --bus-dir="$D/bus$i"
  spawn "informer$i" "$KUBUS_BIN/kubus-informer" --bus-dir="$D/bus$i" --kubeconfig="$KUBECONFIG" \
    --resources=replicasets,namespaces --shard-count=2 --shard-index=$i
  spawn "tail$i" "$KUBUS_BIN/kubus-bus-tail" --bus-dir="$D/bus$i" --resources=replicasets,namespaces \
    --exit-after-sync --no-events --cache-dump="$D/dump$i.txt"
  eval "TAIL${i}_PID=\$LAST_PID"
done
wait_until 30 '! kill -0 "$TAIL0_PID" 2>/dev/null && ! kill -0 "$TAIL1_PID" 2>/dev/null' "both subscribers synced"
[ -s "$D/dump0.txt" ] && [ -s "$D/dump1.txt" ] || fail "missing cache dumps"

# fnv1a32 computed independently of the informer's C code.
fnv_shard() {
  python3 -c 'import sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xFFFFFFFF
print(h % 2)' "$1"
}
for ns in "$NS_A" "$NS_B" "$NS_C"; do
  want=$(fnv_shard "$ns")
  grep -q "^replicasets $ns/" "$D/dump$want.txt" || fail "ReplicaSet of $ns is not in shard $want (fnv1a32 % 2)"
  in0=$(grep -c "^replicasets $ns/" "$D/dump0.txt" || true)
  in1=$(grep -c "^replicasets $ns/" "$D/dump1.txt" || true)
  [ "$((in0 + in1))" = 1 ] || fail "ReplicaSet of $ns is in shard 0 $in0 times and shard 1 $in1 times (want once)"
  for i in 0 1; do
    grep -q "^namespaces $ns " "$D/dump$i.txt" || fail "cluster-scoped namespace $ns missing from shard $i"
  done
done
pass "namespaced objects split between the shards, cluster-scoped ones in both"
