# shellcheck shell=bash
# Sourced by tests/e2e/statefulset_*.sh (after lib.sh): storage and audit
# helpers for StatefulSet tests.
#   sts_pvs NAME... : one 1Gi ReadWriteOnce hostPath PersistentVolume per claim
#       NAME of namespace $NS, pre-bound to it (spec.claimRef), of the local
#       cluster's default class local-path (the class a claim without one is
#       given), so that the binder binds exactly these claims instead of
#       provisioning new volumes; deleted when the test exits.
#   sts_audit_writes VERB RESOURCE : "name" lines of the successful VERB
#       requests kubus-statefulset made on RESOURCE in $NS, in the order the
#       API server completed them (its audit log).
#   sts_audit_kwok_deletes : "time<TAB>name" of the fake kubelet's (kwok's) pod
#       deletes in $NS, sorted: the moment a terminating pod left storage.

sts_pvs() {
  local claim pv
  for claim in "$@"; do
    pv="pv-$NS-$claim"
    kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $pv
  labels: {kubus.test/ns: $NS}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-path
  hostPath: {path: /tmp/kubus-e2e-$pv}
  claimRef: {namespace: $NS, name: $claim}
YAML
  done
  on_exit "kubectl delete pv -l kubus.test/ns=$NS --wait=false --ignore-not-found >/dev/null 2>&1"
}

_sts_audit() {
  cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log 2>/dev/null
}

sts_audit_writes() {
  _sts_audit | jq -r --arg v "$1" --arg r "$2" --arg n "$NS" '
    select(.verb == $v and .objectRef.resource == $r and .objectRef.namespace == $n
           and (.objectRef.subresource // "") == "" and .stage == "ResponseComplete"
           and (.responseStatus.code >= 200 and .responseStatus.code < 300)
           and (.userAgent // "" | test("/statefulset$")))
    | [.stageTimestamp, .objectRef.name] | @tsv' | sort | cut -f2
}

# "time name" of every request by a fake kubelet (kwok) that deleted a pod of $NS
sts_audit_kwok_deletes() {
  _sts_audit | jq -r --arg n "$NS" '
    select(.verb == "delete" and .objectRef.resource == "pods" and .objectRef.namespace == $n
           and .stage == "ResponseComplete" and .responseStatus.code == 200
           and (.userAgent // "" | test("^kwok")))
    | [.stageTimestamp, .objectRef.name] | @tsv' | sort
}
