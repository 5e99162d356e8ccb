#!/usr/bin/env bash
# Garbage collector with the ReplicaSet controller: the tutorial ReplicaSet
# (examples/myreplicaset.yaml) deleted the three ways kubectl can.
#   kubectl delete rs --all                  RS and all its pods gone
#   kubectl delete rs --cascade=foreground   the RS disappears only after its
#       pods: while a pod exists the RS exists with a deletionTimestamp, and
#       when the RS is gone no pod of it is left
#   kubectl delete rs --cascade=orphan       pods stay, without ownerReference;
#       the RS goes
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kubus.sh"

manifest=$(tutorial_manifest myreplicaset.yaml)

kubus_start --controllers=replicaset,garbagecollector ${GC_E2E_FLAGS:-}
for w in replicaset garbagecollector; do
  [ -n "$(kubus_worker_pid "$w")" ] ||
    fail "kubus-$w is not running (not built in $KUBUS_BIN?); statusz: $(kubus_statusz | tr '\n' ' ')"
done
kns_new

sel=run=nginx-rs
all_pods() { kubectl get pods -n "$NS" -l "$sel" -o json | jq '.items | length'; }
rs_state() { # absent | live | deleting
  kubectl get rs -n "$NS" myreplicaset -o json 2>/dev/null |
    jq -r 'if .metadata.deletionTimestamp then "deleting" else "live" end' || echo absent
}
create_rs() {
  k apply -f "$manifest" >/dev/null
  wait_until 30 '[ "$(pods_ready "$NS" "$sel")" = 2 ]' "myreplicaset's 2 pods Ready"
}

# --- background (kubectl's default) ------------------------------------------------
create_rs
k delete rs --all >/dev/null
[ "$(rs_state)" = absent ] || fail "background: the ReplicaSet is still there after kubectl delete"
wait_until 30 '[ "$(all_pods)" = 0 ]' "the pods of the deleted ReplicaSet to be gone"
pass "kubectl delete rs --all: the ReplicaSet and all its pods are gone"

# --- foreground ------------------------------------------------------------------------
create_rs
k delete rs myreplicaset --cascade=foreground --wait=false >/dev/null
t0=$(date +%s)
saw_waiting=0
while :; do
  st=$(rs_state)       # the RS first, then the pods: see gc_cascade.sh
  pods=$(all_pods)
  if [ "$st" = absent ]; then
    [ "$pods" = 0 ] || fail "foreground: the ReplicaSet is gone while $pods of its pods still exist"
    break
  fi
  if [ "$pods" != 0 ]; then
    [ "$st" = deleting ] || fail "foreground: the ReplicaSet is '$st' (no deletionTimestamp) while $pods pods exist"
    saw_waiting=1
  fi
  (($(date +%s) - t0 < 40)) || fail "foreground: the ReplicaSet is still $st after 40 s ($pods pods left)"
  sleep 0.1
done
((saw_waiting)) || fail "foreground: never saw the ReplicaSet waiting for its pods"
pass "kubectl delete rs --cascade=foreground: the ReplicaSet went only after its pods"

# --- orphan (last: the orphans would be adopted by a new ReplicaSet) -------------
create_rs
k delete rs myreplicaset --cascade=orphan --wait=false >/dev/null
wait_until 30 '[ "$(rs_state)" = absent ]' "the ReplicaSet (orphan finalizer) to be gone"
[ "$(pods_count "$NS" "$sel")" = 2 ] || fail "orphan: expected 2 pods left, found $(pods_count "$NS" "$sel")"
refs=$(kubectl get pods -n "$NS" -l "$sel" -o json | jq '[.items[].metadata.ownerReferences[]?] | length')
[ "$refs" = 0 ] || fail "orphan: the pods still have $refs ownerReferences"
never_within 3 '[ "$(pods_count "$NS" "$sel")" != 2 ]' "orphaned pods deleted"
pass "kubectl delete rs --cascade=orphan: the pods stay without ownerReference, the ReplicaSet is gone"
