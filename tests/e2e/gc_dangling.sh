#!/usr/bin/env bash
# Garbage collector, no other controller involved: dependents whose owners do
# not exist (as the API server says, not a cache).
#   - a bare Pod naming a ReplicaSet uid that never existed is deleted;
#   - a Pod with two owners, one live and one missing, keeps living and loses
#     only the dangling reference;
#   - a Pod naming an owner that lives in another namespace is an orphan of a
#     missing owner (namespaced owners are looked up in the dependent's
#     namespace) and is deleted; the owner is left alone;
#   - a Pod whose owner exists is left alone.
# Owners are ControllerRevisions: a watched kind no kubus controller acts on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kubus.sh"

kubus_start --controllers=garbagecollector ${GC_E2E_FLAGS:-}
[ -n "$(kubus_worker_pid garbagecollector)" ] ||
  fail "kubus-garbagecollector is not running (not built in $KUBUS_BIN?); statusz: $(kubus_statusz | tr '\n' ' ')"
kns_new

newuid() { cat /proc/sys/kernel/random/uuid; }
# ref APIVERSION KIND NAME UID [BLOCK]: one ownerReference as JSON
ref() {
  printf '{"apiVersion":"%s","kind":"%s","name":"%s","uid":"%s","blockOwnerDeletion":%s}' \
    "$1" "$2" "$3" "$4" "${5:-false}"
}
# mkpod NAME REFS_JSON_ARRAY [NAMESPACE]
mkpod() {
  kubectl apply -n "${3:-$NS}" -f - >/dev/null <<JSON
{"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"$1","labels":{"test":"gc"},"ownerReferences":$2},
 "spec":{"containers":[{"name":"main","image":"nginx:1.25"}]}}
JSON
}
# mkrev NAME [NAMESPACE]: a ControllerRevision; prints its uid
mkrev() {
  kubectl apply -n "${2:-$NS}" -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ControllerRevision
metadata: {name: $1}
revision: 1
data: {owner: true}
YAML
  kubectl get controllerrevision -n "${2:-$NS}" "$1" -o jsonpath='{.metadata.uid}'
}
gone() { ! kubectl get "$@" >/dev/null 2>&1; }
owner_uids() { kubectl get pod -n "$NS" "$1" -o json | jq -r '[.metadata.ownerReferences[]?.uid] | join(",")'; }

# --- a bare pod whose owner never existed ------------------------------------
ghost=$(newuid)
mkpod bare "[$(ref apps/v1 ReplicaSet ghost-rs "$ghost" true)]"
wait_until 30 'gone pod -n "$NS" bare' "pod bare (owner ReplicaSet uid $ghost does not exist) to be deleted"
pass "a pod owned by a ReplicaSet that does not exist is deleted"

# --- two owners, one of them missing -------------------------------------------
live=$(mkrev keeper)
missing=$(newuid)
mkpod twins "[$(ref apps/v1 ControllerRevision keeper "$live"),$(ref apps/v1 ReplicaSet missing-rs "$missing")]"
wait_until 30 '[ "$(owner_uids twins)" = "$live" ]' "pod twins to keep only its live owner's reference"
never_within 3 'gone pod -n "$NS" twins' "pod twins (it still has a live owner) deleted"
pass "a pod with a live owner and a missing one keeps living without the dangling reference"

# --- an owner in another namespace -------------------------------------------
other="$NS-other"
kubectl create namespace "$other" >/dev/null || fail "could not create namespace $other"
on_exit "kubectl delete namespace '$other' --wait=false --ignore-not-found >/dev/null 2>&1"
foreign=$(mkrev elsewhere "$other")
mkpod stray "[$(ref apps/v1 ControllerRevision elsewhere "$foreign")]"
wait_until 30 'gone pod -n "$NS" stray' "pod stray (its owner lives in namespace $other) to be deleted"
kubectl get controllerrevision -n "$other" elsewhere >/dev/null 2>&1 ||
  fail "the owner in namespace $other was deleted"
pass "an owner in another namespace counts as absent; the owner itself is untouched"

# --- a pod whose owner exists ---------------------------------------------------
mkpod kept "[$(ref apps/v1 ControllerRevision keeper "$live" true)]"
never_within 4 'gone pod -n "$NS" kept' "pod kept (its owner exists) deleted"
[ "$(owner_uids kept)" = "$live" ] || fail "pod kept lost its ownerReference"
pass "a pod whose owner exists is left alone"
