#!/usr/bin/env bash
# Garbage collector, pods that exist before kubus starts: it learns of them
# only from its first read of the shard's store, where it reads each pod's
# metadata straight from the stored text (no JSON tree). The same cases as
# gc_dangling, made while no kubus runs:
#   - a pod whose owner ReplicaSet uid never existed is deleted;
#   - a pod with a live owner and a missing one loses only the dangling
#     reference;
#   - a pod whose owner exists (blockOwnerDeletion; a kept annotation with
#     unicode and escapes, so the text reader meets them) is left alone.
# This fails if the store's records are not told to the garbage collector's
# graph, or told with the wrong owners.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kubus.sh"
kns_new gc-stored

newuid() { cat /proc/sys/kernel/random/uuid; }
ref() { # APIVERSION KIND NAME UID [BLOCK]
  printf '{"apiVersion":"%s","kind":"%s","name":"%s","uid":"%s","blockOwnerDeletion":%s}' \
    "$1" "$2" "$3" "$4" "${5:-false}"
}
mkpod() { # NAME REFS_JSON_ARRAY
  kubectl apply -n "$NS" -f - >/dev/null <<JSON
{"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"$1","labels":{"test":"gc"},
             "annotations":{"kubernetes.io/description":"z\u00fcrich, a \"quoted\"\\\\ value"},
             "ownerReferences":$2},
 "spec":{"schedulerName":"nobody","containers":[{"name":"main","image":"busybox"}]}}
JSON
}
gone() { ! kubectl get "$@" >/dev/null 2>&1; }
owner_uids() { kubectl get pod -n "$NS" "$1" -o json | jq -r '[.metadata.ownerReferences[]?.uid] | join(",")'; }

kubectl apply -n "$NS" -f - >/dev/null <<YAML || fail "could not create the ControllerRevision keeper"
apiVersion: apps/v1
kind: ControllerRevision
metadata: {name: keeper}
revision: 1
data: {owner: true}
YAML
live=$(kubectl get controllerrevision -n "$NS" keeper -o jsonpath='{.metadata.uid}')
[ -n "$live" ] || fail "no uid for the ControllerRevision keeper"
mkpod bare "[$(ref apps/v1 ReplicaSet ghost-rs "$(newuid)" true)]" || fail "could not create pod bare"
mkpod twins "[$(ref apps/v1 ControllerRevision keeper "$live"),$(ref apps/v1 ReplicaSet missing-rs "$(newuid)")]" ||
  fail "could not create pod twins"
mkpod kept "[$(ref apps/v1 ControllerRevision keeper "$live" true)]" || fail "could not create pod kept"
[ "$(kubectl get pod -n "$NS" kept -o json | jq -r '.metadata.annotations["kubernetes.io/description"]')" = 'zürich, a "quoted"\ value' ] ||
  fail "the API server did not keep the annotation as written"

kubus_start --controllers=garbagecollector || fail "kubus did not start"
wait_until 30 'gone pod -n "$NS" bare' "pod bare (its owner ReplicaSet never existed) to be deleted"
pass "a pod made before kubus started, whose owner never existed, is deleted"
wait_until 30 '[ "$(owner_uids twins)" = "$live" ]' "pod twins to keep only its live owner's reference"
pass "a pod made before kubus started with a live and a missing owner keeps only the live reference"
never_within 4 'gone pod -n "$NS" kept' "pod kept (its owner exists) deleted"
[ "$(owner_uids kept)" = "$live" ] || fail "pod kept lost its ownerReference"
pass "a pod made before kubus started whose owner exists is left alone"
