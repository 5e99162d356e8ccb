#!/usr/bin/env bash
# Informer e2e: sharding. Two informers, --shard-count=2 with index 0 and 1,
# each on its own bus: every namespaced object is published by exactly one of
# them (fnv1a32(namespace) % 2), cluster-scoped objects by both.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/_informer.sh"

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
