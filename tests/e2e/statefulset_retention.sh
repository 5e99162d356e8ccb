#!/usr/bin/env bash
# persistentVolumeClaimRetentionPolicy whenDeleted: Delete, whenScaled: Delete
# (kubus-statefulset sets the ownerReferences, the garbage collector deletes):
#   - each claim gets a controller ownerReference to the StatefulSet;
#   - scaling down moves the condemned pod's claim to a controller
#     ownerReference to that pod, so the claim goes with the pod;
#   - deleting the StatefulSet takes the remaining claims with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_statefulset.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

kns_new sts-retention
sts_pvs data-ret-0 data-ret-1
kubus_start --controllers=statefulset,garbagecollector || fail "kubus did not start"

k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ret}
spec:
  serviceName: ret
  replicas: 2
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}
  selector: {matchLabels: {app: ret}}
  template:
    metadata: {labels: {app: ret}}
    spec:
      containers:
      - {name: c, image: nginx, volumeMounts: [{name: data, mountPath: /data}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
YAML
wait_until 60 '[ "$(pods_ready "$NS" app=ret)" = 2 ]' "ret-0 and ret-1 ready"
uid=$(kjq .metadata.uid sts ret)
owners() { kjq '[.metadata.ownerReferences[]? | select(.controller == true) | "\(.kind)/\(.name)/\(.uid)"] | join(",")' pvc "$1" 2>/dev/null; }
for n in 0 1; do
  wait_until 30 '[ "$(owners data-ret-$n)" = "StatefulSet/ret/$uid" ]' "data-ret-$n controlled by the StatefulSet (is: $(owners data-ret-$n))"
done
pass "whenDeleted: Delete: each claim has a controller ownerReference to the StatefulSet"

pod1_uid=$(kjq .metadata.uid pod ret-1)
k scale sts ret --replicas=1 >/dev/null
wait_until 60 '! kubectl -n "$NS" get pvc data-ret-1 >/dev/null 2>&1' "data-ret-1 deleted after scaling down"
_sts_audit | jq -e -s --arg n "$NS" --arg u "$pod1_uid" '[.[] | select(.objectRef.resource == "persistentvolumeclaims"
    and .objectRef.name == "data-ret-1" and .objectRef.namespace == $n and .verb == "patch"
    and .stage == "ResponseComplete" and .responseStatus.code == 200
    and (.userAgent // "" | test("/statefulset$")))] | length >= 1' >/dev/null \
  || fail "kubus-statefulset never re-owned data-ret-1 to pod ret-1 ($pod1_uid)"
[ "$(owners data-ret-0)" = "StatefulSet/ret/$uid" ] || fail "data-ret-0 lost its owner: $(owners data-ret-0)"
pass "whenScaled: Delete: data-ret-1 went with ret-1; data-ret-0 kept"

k delete sts ret >/dev/null
wait_until 60 '[ "$(kget pvc,pods | jq ".items | length")" = 0 ]' "data-ret-0 and ret-0 gone with the StatefulSet"
pass "whenDeleted: Delete: the remaining claim went with the StatefulSet"
