#!/usr/bin/env bash
# Garbage collector, no other controller involved: the three ways an owner is
# deleted, with ControllerRevisions owning Pods (a watched kind no kubus
# controller acts on).
#   background (default)   the owner goes at once, its dependents after it;
#   --cascade=orphan       the dependents stay, without the reference; then
#                          the owner goes;
#   --cascade=foreground   the owner stays (deletionTimestamp set) as long as
#                          a dependent with blockOwnerDeletion exists, and goes
#                          right after the last one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kubus.sh"

kubus_start --controllers=garbagecollector ${GC_E2E_FLAGS:-}
[ -n "$(kubus_worker_pid garbagecollector)" ] ||
  fail "kubus-garbagecollector is not running (not built in $KUBUS_BIN?); statusz: $(kubus_statusz | tr '\n' ' ')"
kns_new

# mkfamily OWNER N [POD_ANNOTATIONS_JSON]: a ControllerRevision and N pods it
# owns (blockOwnerDeletion: true); prints the owner's uid
mkfamily() {
  local owner=$1 n=$2 ann=${3:-'{}'} uid i
  kubectl apply -n "$NS" -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ControllerRevision
metadata: {name: $owner}
revision: 1
data: {owner: true}
YAML
  uid=$(kubectl get controllerrevision -n "$NS" "$owner" -o jsonpath='{.metadata.uid}')
  for ((i = 1; i <= n; i++)); do
    kubectl apply -n "$NS" -f - >/dev/null <<JSON
{"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"$owner-$i","labels":{"family":"$owner"},"annotations":$ann,
   "ownerReferences":[{"apiVersion":"apps/v1","kind":"ControllerRevision","name":"$owner",
     "uid":"$uid","controller":true,"blockOwnerDeletion":true}]},
 "spec":{"containers":[{"name":"main","image":"nginx:1.25"}]}}
JSON
  done
  echo "$uid"
}
# all pods of a family, terminating ones included
family_pods() { kubectl get pods -n "$NS" -l "family=$1" -o json | jq '.items | length'; }
owner_state() { # absent | live | deleting
  kubectl get controllerrevision -n "$NS" "$1" -o json 2>/dev/null |
    jq -r 'if .metadata.deletionTimestamp then "deleting" else "live" end' || echo absent
}

# --- background ------------------------------------------------------------------
mkfamily bg 3 >/dev/null
k delete controllerrevision bg >/dev/null
wait_until 30 '[ "$(family_pods bg)" = 0 ]' "the 3 pods of deleted owner bg to be gone"
pass "background: the owner's dependents are deleted after it"

# --- orphan ------------------------------------------------------------------------
uid=$(mkfamily orph 2)
k delete controllerrevision orph --cascade=orphan --wait=false >/dev/null
wait_until 30 '[ "$(owner_state orph)" = absent ]' "owner orph (orphan finalizer) to be deleted"
[ "$(family_pods orph)" = 2 ] || fail "orphan: expected 2 pods left, found $(family_pods orph)"
refs=$(kubectl get pods -n "$NS" -l family=orph -o json | jq '[.items[].metadata.ownerReferences[]?] | length')
[ "$refs" = 0 ] || fail "orphan: the pods still have $refs ownerReferences (owner uid $uid)"
never_within 3 '[ "$(family_pods orph)" != 2 ]' "orphaned pods deleted"
pass "orphan: the dependents stay without the reference, then the owner goes"

# --- foreground --------------------------------------------------------------------
# One pod takes 3 s to terminate, so the owner must wait for a while.
mkfamily fg 3 >/dev/null
kubectl annotate pod -n "$NS" fg-1 kubus.test/terminate-delay=3s >/dev/null
wait_until 20 '[ "$(pods_ready "$NS" family=fg)" = 3 ]' "3 pods of fg Ready"
k delete controllerrevision fg --cascade=foreground --wait=false >/dev/null
# Sample the owner first, then its pods: a pod seen after the owner was seen
# gone existed after it went.
t0=$(date +%s)
saw_waiting=0
while :; do
  st=$(owner_state fg)
  pods=$(family_pods fg)
  if [ "$st" = absent ]; then
    [ "$pods" = 0 ] || fail "foreground: owner fg is gone while $pods of its pods still exist"
    break
  fi
  if [ "$pods" != 0 ]; then
    [ "$st" = deleting ] || fail "foreground: owner fg is '$st' (no deletionTimestamp) while $pods pods exist"
    saw_waiting=1
  fi
  (($(date +%s) - t0 < 40)) || fail "foreground: owner fg still $st after 40 s ($pods pods left)"
  sleep 0.2
done
((saw_waiting)) || fail "foreground: never saw the owner waiting for its pods"
pass "foreground: the owner waited (deletionTimestamp set) for its pods and went after the last"
