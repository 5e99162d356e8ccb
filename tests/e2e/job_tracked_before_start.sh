#!/usr/bin/env bash
# Pods being deleted, held by the Job tracking finalizer, before kubus
# starts, as upstream's job controller treats them (addPod of a pod with a
# deletionTimestamp is its deletePod): one whose controller is a Job that no
# longer exists loses the finalizer and is gone (the orphan path); one
# controlled by something that is not a Job keeps it. kubus learns of both only from its
# first read of the shard's store, where the job controller replays just the
# pods that can matter to it: this fails if that selection drops a tracked
# pod whose owner is gone, or if the replay touches what it must not.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
kns_new job-tracked

fin=batch.kubernetes.io/job-tracking
tracked_pod() { # name apiVersion kind
  cat <<Y
apiVersion: v1
kind: Pod
metadata:
  name: $1
  finalizers: [$fin]
  ownerReferences:
  - {apiVersion: $2, kind: $3, name: gone-$1, uid: $(cat /proc/sys/kernel/random/uuid), controller: true}
spec:
  schedulerName: nobody
  containers: [{name: c, image: busybox}]
Y
}
has_fin() { kget pod "$1" | jq -e --arg f "$fin" '(.metadata.finalizers // []) | index($f) != null' >/dev/null; }
release_all() {
  local p
  for p in of-gone-job of-other; do
    k patch pod "$p" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  done
}
on_exit release_all

{ tracked_pod of-gone-job batch/v1 Job; echo ---; tracked_pod of-other example.com/v1 Widget; } | k apply -f - >/dev/null
has_fin of-gone-job && has_fin of-other || fail "the pods were not created with the tracking finalizer"
k delete pod of-gone-job of-other --wait=false >/dev/null
kget pod of-gone-job | jq -e '.metadata.deletionTimestamp != null' >/dev/null || fail "of-gone-job is not being deleted"

# kwok's pod-delete stage marks a terminating pod Failed: let that settle, so
# that kubus sees no live change of these pods, only the store's state.
wait_until 30 '[ "$(kjq .status.phase pod of-gone-job)/$(kjq .status.phase pod of-other)" = Failed/Failed ]' "kwok done with the pods"
sleep 2
gone() { local out; ! out=$(k get pod "$1" 2>&1) && [[ $out == *NotFound* ]]; }
kubus_start --controllers=job || fail "kubus did not start"
wait_until 30 'gone of-gone-job' "the pod of a Job that is gone released by its tracking finalizer"
never_within 5 '! has_fin of-other' "the tracking finalizer removed from a pod whose controller is not a Job"
pass "a terminating tracked pod of a gone Job released after the first store read; a non-Job pod's finalizer kept"
