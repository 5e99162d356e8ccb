#!/usr/bin/env bash
# Section 1 of the tutorial (examples/README.md) (the ReplicaSet part kubus-replicaset
# owns; cascading deletion is the garbage collector's test):
#   apply myreplicaset.yaml -> 2 pods myreplicaset-xxxxx (generateName
#   myreplicaset-, controller ownerReference), status 2/2/2;
#   scale to 4 -> 4 pods, status.replicas 4; delete a pod -> replaced;
#   SuccessfulCreate events exist.
# Plus claiming: a bare pod with matching labels is adopted (and counted,
# so the ReplicaSet creates one pod fewer); a pod whose labels no longer
# match is released (ownerReference removed) and replaced.
. "$(dirname "$0")/lib.sh"

manifest=$(tutorial_manifest myreplicaset.yaml)

# Prefer the supervisor; without one, run the four processes by hand.
if [ -x "$KUBUS_BIN/kubus-controller-manager" ]; then
  . "$KUBUS_ROOT/tests/e2e/kubus.sh"
  kubus_start --controllers=replicaset || fail "kubus did not start"
else
  busdir=$(mktemp -d /tmp/kubus-rs-e2e.XXXXXX)
  on_exit "rm -rf '$busdir'"
  for p in broker informer executor replicaset; do
    bin="$KUBUS_BIN/kubus-$p"
    [ -x "$bin" ] || fail "missing $bin"
    "$bin" --kubeconfig="$KUBECONFIG" --bus-dir="$busdir/bus" >"$busdir/$p.log" 2>&1 &
    on_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
    sleep 0.3
  done
fi

rs_status() { kjq "[.status.replicas // 0, .status.readyReplicas // 0, .status.availableReplicas // 0, .status.observedGeneration // 0] | join(\" \")" rs myreplicaset; }
owned_pods() {   # active pods whose controller is the ReplicaSet
  local uid
  uid=$(kjq .metadata.uid rs myreplicaset)
  kget pods | jq -r --arg uid "$uid" '[.items[] | select(.metadata.deletionTimestamp == null)
      | select([.metadata.ownerReferences[]? | select(.controller == true and .uid == $uid)] | length == 1)] | length'
}

# ---- 1. apply: 2 pods, well named and owned, status 2/2/2 -------------------
kns_new rs-tutorial
k apply -f "$manifest" >/dev/null
wait_until 60 '[ "$(pods_count "$NS" run=nginx-rs)" = 2 ] && [ "$(pods_ready "$NS" run=nginx-rs)" = 2 ]' "2 ready pods"
uid=$(kjq .metadata.uid rs myreplicaset)
kget pods -l run=nginx-rs | jq -e --arg uid "$uid" '
  .items | length == 2 and all(.[];
    (.metadata.name | test("^myreplicaset-[bcdfghjklmnpqrstvwxz2456789]{5}$")) and
    .metadata.generateName == "myreplicaset-" and
    ([.metadata.ownerReferences[] | select(.controller == true and .kind == "ReplicaSet"
        and .apiVersion == "apps/v1" and .name == "myreplicaset" and .uid == $uid
        and .blockOwnerDeletion == true)] | length == 1))' >/dev/null \
  || fail "pods are not myreplicaset-xxxxx with generateName and a controller ownerReference: $(pod_names "$NS" run=nginx-rs | tr '\n' ' ')"
wait_until 30 '[ "$(rs_status)" = "2 2 2 1" ]' "status replicas/ready/available 2/2/2 at generation 1 (is: $(rs_status))"
k get rs myreplicaset --no-headers | awk '$2 == 2 && $3 == 2 && $4 == 2 {ok=1} END {exit !ok}' \
  || fail "kubectl get rs does not show DESIRED 2 CURRENT 2 READY 2: $(k get rs myreplicaset --no-headers)"
pass "apply: 2 pods named myreplicaset-xxxxx, owned, DESIRED 2 CURRENT 2 READY 2"

# ---- 2. scale to 4 ------------------------------------------------------------
k scale rs --replicas 4 myreplicaset >/dev/null
wait_until 60 '[ "$(pods_count "$NS" run=nginx-rs)" = 4 ] && [ "$(kjq ".status.replicas // 0" rs myreplicaset)" = 4 ]' "4 pods and status.replicas 4"
wait_until 30 '[ "$(rs_status)" = "4 4 4 2" ]' "status 4/4/4 at generation 2 (is: $(rs_status))"
never_within 3 '[ "$(pods_count "$NS" run=nginx-rs)" != 4 ]' "the pod count to stay 4"
pass "scale: 4 pods, status.replicas 4"

# ---- 3. delete one pod: replaced ------------------------------------------------
victim=$(pod_names "$NS" run=nginx-rs | head -1)
k delete pod "$victim" --wait=false >/dev/null
wait_until 60 '! pod_names "$NS" run=nginx-rs | grep -x >/dev/null "$victim" && [ "$(pods_count "$NS" run=nginx-rs)" = 4 ] && [ "$(pods_ready "$NS" run=nginx-rs)" = 4 ]' "a replacement for $victim"
[ "$(owned_pods)" = 4 ] || fail "expected 4 owned pods, have $(owned_pods)"
pass "delete pod $victim: replaced, 4 again"

# ---- events ------------------------------------------------------------------------
wait_until 30 '[ "$(kget events --field-selector involvedObject.kind=ReplicaSet,involvedObject.name=myreplicaset,reason=SuccessfulCreate | jq ".items | length")" -ge 1 ]' "SuccessfulCreate events"
kget events --field-selector involvedObject.name=myreplicaset,reason=SuccessfulCreate \
  | jq -e '[.items[] | select(.message | test("^Created pod: myreplicaset-[a-z0-9]{5}$"))] | length >= 1' >/dev/null \
  || fail "no SuccessfulCreate event with message 'Created pod: NAME'"
pass "events: SuccessfulCreate 'Created pod: NAME'"

# ---- 4. release: a pod whose labels stop matching is let go and replaced ---------
released=$(pod_names "$NS" run=nginx-rs | head -1)
k label pod "$released" run=elsewhere --overwrite >/dev/null
wait_until 30 '[ "$(kjq "[.metadata.ownerReferences[]? | select(.uid == \"$uid\")] | length" pod "$released")" = 0 ]' "$released released (ownerReference removed)"
wait_until 60 '[ "$(pods_count "$NS" run=nginx-rs)" = 4 ] && [ "$(owned_pods)" = 4 ]' "a replacement for the released pod"
[ "$(pod_phase "$NS" "$released")" != "" ] || fail "the released pod was deleted; it should have been left alone"
pass "release: $released lost its ownerReference, kept running, and was replaced"

# ---- 5. adoption: a bare matching pod is adopted and counted -----------------------
k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: orphan
  labels: {run: adopt-me}
spec:
  containers: [{name: nginx, image: nginx}]
YAML
wait_until 30 '[ "$(pod_phase "$NS" orphan)" = Running ]' "the bare pod running"
k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: adopter}
spec:
  replicas: 2
  selector: {matchLabels: {run: adopt-me}}
  template:
    metadata: {labels: {run: adopt-me}}
    spec:
      containers: [{name: nginx, image: nginx}]
YAML
auid=$(kjq .metadata.uid rs adopter)
wait_until 30 '[ "$(kjq "[.metadata.ownerReferences[]? | select(.controller == true and .uid == \"$auid\")] | length" pod orphan)" = 1 ]' "the bare pod adopted by adopter"
wait_until 60 '[ "$(pods_count "$NS" run=adopt-me)" = 2 ]' "2 pods for adopter"
never_within 3 '[ "$(pods_count "$NS" run=adopt-me)" != 2 ]' "adopter to keep 2 pods (the adopted one counted)"
pod_names "$NS" run=adopt-me | grep -x >/dev/null orphan || fail "the adopted pod was deleted"
pass "adoption: the bare pod was adopted and counted (1 new pod, not 2)"
