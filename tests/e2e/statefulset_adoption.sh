#!/usr/bin/env bash
# Claiming by kubus-statefulset (upstream ClaimPods):
#   - a bare pod named "<set>-<ordinal>" matching the selector is adopted
#     (controller ownerReference, after a live re-check of the set) and kept,
#     not replaced (OnDelete: no rolling update touches it);
#   - a pod of the set whose labels stop matching is released (ownerReference
#     removed, pod kept) and replaced by a new pod of that name... which
#     cannot be created while the released pod holds the name, so the set
#     shows one pod fewer;
#   - a matching bare pod whose name is not "<set>-<n>" is left alone.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

kns_new sts-adoption
kubus_start --controllers=statefulset,garbagecollector || fail "kubus did not start"

bare_pod() {   # NAME
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: adopt}}
spec:
  containers: [{name: nginx, image: nginx}]
YAML
}
bare_pod adopt-0
bare_pod stranger
wait_until 30 '[ "$(pod_phase "$NS" adopt-0)" = Running ] && [ "$(pod_phase "$NS" stranger)" = Running ]' "bare pods running"
bare_uid=$(kjq .metadata.uid pod adopt-0)
k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: adopt}
spec:
  serviceName: adopt
  replicas: 2
  updateStrategy: {type: OnDelete}
  selector: {matchLabels: {app: adopt}}
  template:
    metadata: {labels: {app: adopt}}
    spec:
      containers: [{name: nginx, image: nginx}]
YAML
uid=$(kjq .metadata.uid sts adopt)
ctl() { kjq "[.metadata.ownerReferences[]? | select(.controller == true) | .uid] | join(\",\")" pod "$1" 2>/dev/null; }
wait_until 30 '[ "$(ctl adopt-0)" = "$uid" ]' "adopt-0 adopted"
wait_until 60 '[ "$(pods_ready "$NS" app=adopt)" = 3 ]' "adopt-1 created next to adopt-0 and the stranger"
never_within 3 '[ "$(kjq .metadata.uid pod adopt-0)" != "$bare_uid" ]' "the adopted pod to be kept"
[ -z "$(ctl stranger)" ] || fail "the pod 'stranger' (not named adopt-<n>) was adopted"
pass "adoption: bare adopt-0 adopted and kept; adopt-1 created; 'stranger' left alone"

k label pod adopt-1 app=elsewhere --overwrite >/dev/null
wait_until 30 '[ -z "$(ctl adopt-1)" ]' "adopt-1 released"
[ "$(pod_phase "$NS" adopt-1)" = Running ] || fail "the released adopt-1 was deleted"
wait_until 30 '[ "$(kjq ".status.replicas // 0" sts adopt)" = 1 ]' "status.replicas 1 (the name adopt-1 is taken by the released pod)"
pass "release: adopt-1 lost its ownerReference and kept running; status counts 1 pod"
