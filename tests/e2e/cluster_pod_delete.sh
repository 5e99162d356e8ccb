#!/usr/bin/env bash
# Deleted pods go away (kwok's pod-delete stage), but never while a finalizer
# remains; annotation kubus.test/terminate=graceful makes a pod use its whole
# grace period, kubus.test/terminate-delay=DURATION a fixed delay.
. "$(dirname "$0")/lib.sh"
kns_new

k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: quick, labels: {test: del}}
spec:
  containers: [{name: main, image: nginx:1.25}]
---
apiVersion: v1
kind: Pod
metadata:
  name: held
  labels: {test: del}
  finalizers: [kubus.test/hold]
spec:
  containers: [{name: main, image: nginx:1.25}]
---
apiVersion: v1
kind: Pod
metadata:
  name: slow
  labels: {test: del}
  annotations: {kubus.test/terminate: graceful}
spec:
  terminationGracePeriodSeconds: 5
  containers: [{name: main, image: nginx:1.25}]
---
apiVersion: v1
kind: Pod
metadata:
  name: delayed
  labels: {test: del}
  annotations: {kubus.test/terminate-delay: 2500ms}
spec:
  containers: [{name: main, image: nginx:1.25}]
YAML
wait_until 20 '[ "$(pods_ready "$NS" test=del)" = 4 ]' "4 pods Ready"

gone() { ! kubectl get pod -n "$NS" "$1" >/dev/null 2>&1; }

k delete pod quick --wait=false >/dev/null
t0=$(date +%s%N)
wait_until 10 'gone quick' "deleted pod quick to disappear"
pass "a deleted pod goes away ($((($(date +%s%N) - t0) / 1000000)) ms)"

k delete pod slow --wait=false >/dev/null
t0=$(date +%s%N)
wait_until 15 'gone slow' "deleted pod slow (grace period 5s) to disappear"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms >= 3500)) || fail "pod slow went away after ${ms} ms, before its 5s grace period ended (API times are whole seconds)"
pass "with kubus.test/terminate=graceful a pod goes away when its grace period ends (${ms} ms)"

k delete pod delayed --wait=false >/dev/null
t0=$(date +%s%N)
wait_until 10 'gone delayed' "deleted pod delayed (terminate-delay 2500ms) to disappear"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms >= 2000)) || fail "pod delayed went away after ${ms} ms, expected ~2500 ms"
pass "with kubus.test/terminate-delay=2500ms a pod goes away after that delay (${ms} ms)"

k delete pod held --wait=false >/dev/null
wait_until 5 '[ -n "$(kjq ".metadata.deletionTimestamp // empty" pod held)" ]' "pod held marked for deletion"
never_within 4 'gone held' "pod held was removed while its finalizer remained"
k patch pod held --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
wait_until 10 'gone held' "pod held to disappear once its finalizer was removed"
pass "a pod with a finalizer stays until the finalizer is removed, then goes away"
