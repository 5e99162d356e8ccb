#!/usr/bin/env bash
# Differential test (issue 5): the same ReplicaSet scaling run under kubus (on
# the fixture cluster) and under upstream kube-controller-manager (on a private
# cluster this test starts with KUBUS_UPSTREAM=all and always tears down):
#   apply with replicas 0, scale 30 -> 5 -> 20 (each step waited for until
#   settled), delete one pod by hand -> replaced.
# Compared between the two sides, after every step: the status (replicas,
# fullyLabeledReplicas, readyReplicas, availableReplicas, conditions,
# terminatingReplicas, observedGeneration == generation) and the active pod
# count; at the end: the pods' ownerReferences shape (apiVersion, kind,
# controller, blockOwnerDeletion), generateName and name form, and the set of
# event reasons on the ReplicaSet: kubus's must be SuccessfulCreate and
# SuccessfulDelete, and include every reason upstream recorded (upstream's
# event spam filter stops after 25 events on one object, so it records only
# SuccessfulCreate here: see diff_events_compare). The API writes each side
# made in the namespace (audit logs) are printed as information, not asserted.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
. "$KUBUS_ROOT/tests/e2e/_differential.sh"

RS=diffrs
SEL=app=diffrs

# One call: "active ready terminating generation observed" plus the status.
rs_state() {
  kubectl get rs,pods -n "$NS" -o json | jq -c --arg rs "$RS" '
    [.items[] | select(.kind == "Pod")] as $pods |
    ([.items[] | select(.kind == "ReplicaSet" and .metadata.name == $rs)][0] // {}) as $r |
    [$pods[] | select(.metadata.deletionTimestamp == null)] as $active |
    {active: ($active | length),
     ready: [$active[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length,
     terminating: ([$pods[] | select(.metadata.deletionTimestamp != null)] | length),
     spec: $r.spec.replicas,
     observedCurrent: ($r.status.observedGeneration == $r.metadata.generation),
     generation: $r.metadata.generation,
     status: ($r.status // {})}'
}

# settled N: N active and ready pods, none terminating, and a status that says
# so at the current generation.
settled() {
  rs_state | jq -e --argjson n "$1" '
    .active == $n and .ready == $n and .terminating == 0 and .spec == $n and .observedCurrent and
    (.status.replicas // 0) == $n and (.status.readyReplicas // 0) == $n and
    (.status.availableReplicas // 0) == $n and (.status.terminatingReplicas // 0) == 0' >/dev/null
}

# step LABEL N: wait until settled at N, then record the (stable) state.
step() {
  local label=$1 n=$2 t0=$SECONDS
  until settled "$n"; do
    ((SECONDS - t0 < 120)) || fail "$DIFF_SIDE: '$label' not settled at $n pods within 120s; state: $(rs_state)"
    sleep 0.3
  done
  diff_stable 20 rs_state | jq -c --arg l "$label" '{step: $l} + .' >>"$DIFF_OUT/steps"
  info "$DIFF_SIDE: $label settled in $((SECONDS - t0))s"
}

# The scenario, identical on both sides.
scenario() {
  local t0=$SECONDS victim before after
  diff_ns
  kubectl apply -n "$NS" -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: $RS}
spec:
  replicas: 0
  selector: {matchLabels: {app: diffrs}}
  template:
    metadata: {labels: {app: diffrs, tier: web}}
    spec:
      containers: [{name: nginx, image: nginx}]
YAML
  step "apply replicas 0" 0
  k scale rs "$RS" --replicas=30 >/dev/null
  step "scale 30" 30
  k scale rs "$RS" --replicas=5 >/dev/null
  step "scale 5" 5
  k scale rs "$RS" --replicas=20 >/dev/null
  step "scale 20" 20

  before=$(pod_names "$NS" "$SEL")
  victim=$(head -n 1 <<<"$before")
  k delete pod "$victim" --wait=false >/dev/null
  step "delete pod by hand" 20
  after=$(pod_names "$NS" "$SEL")
  {
    echo "deleted pod still active: $(grep -cx "$victim" <<<"$after" || true)"
    echo "new pods: $(comm -13 <(echo "$before") <(echo "$after") | grep -c . || true)"
  } | diff_record replacement

  # Pods: every distinct shape (all pods should share one).
  kget pods | jq -c --arg rs "$RS" --arg uid "$(kjq .metadata.uid rs "$RS")" '
    .items[] | select(.metadata.deletionTimestamp == null) |
    {generateName: .metadata.generateName,
     nameIsGenerateNamePlus5: (.metadata.generateName as $g | $g != null and
       (.metadata.name | test("^" + $g + "[bcdfghjklmnpqrstvwxz2456789]{5}$"))),
     labels: .metadata.labels,
     ownerReferences: [.metadata.ownerReferences[]? |
       {apiVersion, kind, controller, blockOwnerDeletion, isTheReplicaSet: (.name == $rs and .uid == $uid)}]}' |
    sort | uniq -c | diff_record pods
  # Events recorded on the ReplicaSet (the recorder is asynchronous: give the
  # last ones a moment to land).
  sleep 2
  diff_events_record ReplicaSet "$RS" events
  diff_writes >"$DIFF_OUT/writes"
  info "$DIFF_SIDE: scenario done in $((SECONDS - t0))s"
}

diff_upstream_start   # comes up in the background while the kubus side runs

diff_side kubus
kubus_start --controllers=replicaset,garbagecollector || fail "kubus did not start"
diff_run_both scenario

bad=0
diff_compare steps replacement pods || bad=1

# Events: kubus's executor filters and combines them the way upstream's
# recorder does (25 per object, similar ones combined from the 10th), so the
# reasons and the total count must be the same on both sides.
diff_events_compare events || bad=1
if ! cmp -s "$DIFF_DIR/kubus/events" "$DIFF_DIR/upstream/events" ||
   [ "$(cat "$DIFF_DIR/kubus/events.total")" != "$(cat "$DIFF_DIR/upstream/events.total")" ]; then
  echo "--- events differ: kubus $(paste -sd, "$DIFF_DIR/kubus/events") (count $(cat "$DIFF_DIR/kubus/events.total")), upstream $(paste -sd, "$DIFF_DIR/upstream/events") (count $(cat "$DIFF_DIR/upstream/events.total"))" >&2
  bad=1
fi
((bad == 0)) || fail "kubus and upstream differ (see above)"
pass "kubus and upstream agree: $(wc -l <"$DIFF_DIR/kubus/steps") steps' status and pod counts, pod replacement, pod shape, event reasons ($(tr '\n' ',' <"$DIFF_DIR/kubus/events" | sed 's/,$//'))"
